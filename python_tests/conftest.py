"""Shared pytest fixtures: synthetic raw data generated once per session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from driver.generate import generate

# The small window every fast test uses: January 2022 (regular season), seed 7.
RAW_MONTH = ("2022-01-01", "2022-01-31", 7)
# End of the 2021-22 regular season, the play-in and the first playoff round, seed 7.
RAW_POSTSEASON = ("2022-04-04", "2022-04-30", 7)


def _quiet(_: str) -> None:
    """Swallow generator progress lines in tests."""


def generate_raw(out: Path, start: str, end: str, seed: int, clean: bool = False) -> Path:
    """Generate raw Parquet tables for [start, end] into `out` and return it."""
    generate(seed, dt.date.fromisoformat(start), dt.date.fromisoformat(end), out, clean, _quiet)
    return out


@pytest.fixture(scope="session")
def raw_month_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for 2022-01-01..2022-01-31, seed 7 (about 230 games). Do not modify."""
    start, end, seed = RAW_MONTH
    return generate_raw(tmp_path_factory.mktemp("raw_month"), start, end, seed)


@pytest.fixture(scope="session")
def raw_season_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for the whole 2021-22 season incl. play-in and playoffs, seed 7. Read only."""
    return generate_raw(tmp_path_factory.mktemp("raw_season"), "2021-10-01", "2022-06-30", 7)


@pytest.fixture(scope="session")
def raw_postseason_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for 2022-04-04..2022-04-30, seed 7: all three season types. Read only."""
    start, end, seed = RAW_POSTSEASON
    return generate_raw(tmp_path_factory.mktemp("raw_postseason"), start, end, seed)
