"""Injected messiness: per-game flags, per-row faults, reloaded games."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth.constants import ROSTER

if TYPE_CHECKING:
    from synth.columns import GameCols


def game_flags(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per-game messiness, drawn from the season stream (window-independent)."""
    u = rng.random((11, n))
    bdb_missing = u[1] < 0.04
    return {
        "dup": u[0] < 0.02,  # whole game reloaded: rows twice, older processed_at
        "bdb_missing": bdb_missing,
        "pbp_missing": bdb_missing & (u[2] < 0.25),  # also missing from NBA.com pbp
        "bdb_fallback": ~bdb_missing & (u[3] < 0.01),  # nbacom_fallback, no coordinates
        "nbac_extra": u[4] < 0.02,  # NBA.com pbp also present for a normal game
        "bdb_prefix": u[5] < 0.08,  # numeric NBA-id prefix on BigDataBall lookups
        "bdb_strip_suffix": np.ones(n, dtype=bool),  # BigDataBall drops Jr./II/... always
        "gamebook_missing": u[6] < 0.005,
        "teambox_drift": u[7] < 0.02,  # HOME_AWAY game id in team box rows
        "bdl_whole_minutes": u[8] < 0.15,
        "in_progress": u[9] < 0.1,  # the schedule also has a status-2 (in progress) version
        "progress_frac": 0.35 + 0.5 * u[10],  # share of the final score at that version
    }


def row_messiness(rng: np.random.Generator, slot: dict, g_n: int) -> dict[str, np.ndarray]:
    """Row-level messiness for one week, drawn from the week's stream."""
    n = slot["g"].size
    u = rng.random((6, n))
    active = slot["status"] == 0
    played = active & (slot["sec"] > 0)
    odd = np.where(played & (u[0] < 2.5e-4), rng.integers(1, 5, n), 0)
    # BDL keeps actives, then dnp, then inactive: 26-35 rows per game
    status_key = np.where(slot["status"] < 0, 9, slot["status"]) + u[1]
    per_game = status_key.reshape(g_n, 2 * ROSTER)
    rank = np.argsort(np.argsort(per_game, axis=1), axis=1).reshape(-1)
    st = slot["status"].reshape(g_n, 2 * ROSTER)
    k = np.clip(((st == 0) | (st == 1)).sum(axis=1), 26, 35)
    k = np.minimum(k, (st >= 0).sum(axis=1))
    return {
        "odd_minutes": odd,
        "bdl_keep": rank < np.repeat(k, 2 * ROSTER),
        "gb_missing_row": played & (u[2] < 0.002),
        "team_null": ~active & (u[3] < 0.04),
        "last_only": u[4] < 0.7,
        "bdl_wrong": played & (u[5] < 0.012),
    }


def with_dups(table: pa.Table, game: np.ndarray, gc: GameCols, shift_s: int = 5 * 3600) -> pa.Table:
    """Append an older copy (processed_at - shift) of every row of a reloaded game."""
    rows = np.flatnonzero(gc.flags["dup"][game])
    if rows.size == 0:
        return table
    old = table.take(pa.array(rows))
    ts = old.column("processed_at")
    shifted = pc.subtract(ts, pa.scalar(shift_s * 1_000_000, pa.duration("us")))
    old = old.set_column(old.schema.get_field_index("processed_at"), "processed_at", shifted)
    return pa.concat_tables([table, old])
