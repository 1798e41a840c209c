"""The validation report: the data tests' outcomes as checks with measured values and bands
(report), and the `validate` command that runs them for a window (command)."""
