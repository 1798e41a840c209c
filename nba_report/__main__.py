"""`python -m nba_report`: see nba_report.cli."""

from __future__ import annotations

import sys

from nba_report.cli import main

if __name__ == "__main__":
    sys.exit(main())
