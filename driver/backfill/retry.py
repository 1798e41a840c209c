"""Which dbt failures are worth retrying, and how long to wait between attempts.

Transient: BigQuery rate limits and quotas, 5xx backend errors, a DuckDB file lock held by
another process, timeouts, dropped connections, a dbt process killed by a signal (the OOM
killer, an operator). Everything else (compile errors, SQL errors, failing tests) is
permanent: retrying cannot fix it.
Backoff is exponential with full jitter: attempt n waits uniform(0, min(cap, base * 2**(n-1))).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

TRANSIENT_PATTERNS: tuple[str, ...] = (
    r"rateLimitExceeded",
    r"quotaExceeded",
    r"403 Exceeded rate limits",
    r"Exceeded rate limits",
    r"Too many DML statements",
    r"backendError",
    r"\b50[0-4]\b[^\n]*(Internal|Backend|Service Unavailable|Bad Gateway|Gateway Time)",
    r"Could not set lock on file",
    r"Connection reset",
    r"Connection aborted",
    r"timed out",
    r"\bTimeout\b",
    r"Deadline ?Exceeded",
    r"killed by signal",  # e.g. the OOM killer's SIGKILL (driver.dbt.invoke notes it)
)
_TRANSIENT = re.compile("|".join(f"(?:{p})" for p in TRANSIENT_PATTERNS), re.IGNORECASE)


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


TRANSIENT, PERMANENT = FailureKind.TRANSIENT, FailureKind.PERMANENT


def classify(texts: Iterable[str | None]) -> FailureKind:
    """`transient` if any text (dbt output, run_results messages) names a transient cause."""
    for text in texts:
        if text and _TRANSIENT.search(text):
            return TRANSIENT
    return PERMANENT


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_seconds: float = 5.0
    cap_seconds: float = 120.0

    def backoff(
        self, attempt: int, rand: Callable[[float, float], float] = random.uniform
    ) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based): full jitter."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return rand(0.0, ceiling)

    def should_retry(self, attempt: int, kind: FailureKind) -> bool:
        return kind == TRANSIENT and attempt < self.max_attempts
