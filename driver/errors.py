"""Errors the CLI maps to exit codes (0 ok, 1 a chunk or check failed, 2 bad usage or input)."""


class UsageError(Exception):
    """Bad usage or input: the message says what to fix. Exit code 2, nothing written."""


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
