"""Synthetic raw NBA data: the six raw tables of contract/raw_tables.yml as Parquet.

`python -m synth --start-date D --end-date D --seed N --out DIR [--clean]`, or
`synth.generate(seed, start, end, out, clean, progress)` from Python.

Whole seasons overlapping the window are scheduled (regular season, play-in,
playoffs), games are simulated week by week as vectorised event streams (shots,
free throws, rebounds, fouls, ...) and the box scores are aggregated from those
events, so play-by-play and box scores agree exactly. Randomness comes from the
seed and the season (schedule) or the seed and the week (games), so a game is
identical whatever window selects it. Messiness is on by default (see
docs/synthetic_data.md); clean=True / --clean turns it off.

Modules, in the order the data flows: constants, draws (seeded streams), players
(pool, rosters), schedule (calendar, games of a window), simulate + events (a
week of games: event stream, box scores counted from it), messiness (injected
faults), columns / box_scores / play_by_play (the tables), writer (Parquet),
pipeline (generate), cli.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synth.pipeline import generate

__all__ = ["generate"]


def __getattr__(name: str) -> Any:
    """`synth.generate`, imported on first use: `synth.cli` must import without numpy."""
    if name == "generate":
        from synth.pipeline import generate

        return generate
    raise AttributeError(f"module 'synth' has no attribute {name!r}")
