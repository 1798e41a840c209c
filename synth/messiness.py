"""Injected messiness: per-game flags, per-row faults, identity drift, reloaded and corrected
games. Every item is listed, with its share, in docs/synthetic_data.md; clean=True turns
them all off."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth.columns import GameCols, ts_col
from synth.constants import ID_BDL, ID_GAMEBOOK, ID_NBAC_PBP, ROSTER, S_DRIFT
from synth.draws import Arrays, seeded_rng, segment_rank
from synth.players import Pool

# identity drift: share of player-games one source writes with the player's alternative
# identity, and how it splits over the sources (gamebook, BDL, NBA.com play-by-play)
DRIFT_ROW_SHARE = 0.02
DRIFT_SOURCE_SPLIT = (0.4, 0.4, 0.2)
# gamebook rows whose whole-minute time is printed with a rounding carry (31:00 as 30:60),
# among active rows with a whole number of minutes (1 in 60): about 0.4% of active rows
MINUTES_CARRY_P = 0.25
# box-score corrections: share of games; a correction arrives 3.5 days after the game
CORRECTION_GAME_SHARE = 0.01
CORRECTION_SECONDS = 3 * 86400 + 12 * 3600


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


def correction_flags(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per-game box-score corrections, drawn from the season's correction stream."""
    u = rng.random((4, n))
    return {
        "correction": u[0] < CORRECTION_GAME_SHARE,
        # which box score re-issues a row: ID_GAMEBOOK, ID_BDL, or 0 for both
        "correction_target": np.array([ID_GAMEBOOK, ID_BDL, 0])[
            np.searchsorted([0.45, 0.9], u[1], side="right")
        ],
        "correction_row": u[2],  # which of the game's shooters (uniform)
        "correction_kind": np.floor(3 * u[3]).astype(np.int64),  # see with_corrections
    }


def identity_variants(seed: int, pool: Pool) -> Pool:
    """Each player's alternative identity, as a drifting source writes him (row_faults).

    Three in four of those whose name has diacritics or punctuation keep them in the lookup
    (`nikolajokić`, `p.j.tucker`, `timhardawayjr.`: normalisation resolves it); the others
    toggle a generational suffix (`timhardaway` for `timhardawayjr`, `jalenjohnsonjr` for
    `jalenjohnson`: only the identity rule, same game and team, resolves it). Base names are
    unique in the pool, so an alternative lookup never collides with another player.
    """
    u = seeded_rng(seed, S_DRIFT).random(len(pool.name))
    names, lookups = [], []
    for i, name in enumerate(pool.name):
        if re.search(r"[^A-Za-z ]", name) and u[i] < 0.75:
            names.append(name)
            lookups.append(name.lower().replace(" ", ""))
        elif pool.lookup[i] != pool.bdb_lookup[i]:  # suffixed: the source drops the suffix
            names.append(name.rsplit(" ", 1)[0])
            lookups.append(pool.bdb_lookup[i])
        else:  # the source adds one
            names.append(f"{name} Jr.")
            lookups.append(f"{pool.lookup[i]}jr")
    return replace(pool, alt_name=names, alt_lookup=lookups)


def row_messiness(rng: np.random.Generator, slot: Arrays, g_n: int) -> dict[str, np.ndarray]:
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


def row_faults(
    rng: np.random.Generator, slot: Arrays, odd_minutes: np.ndarray
) -> dict[str, np.ndarray]:
    """Row-level faults added later, from their own per-week stream."""
    sec = slot["sec"]
    u = rng.random((3, sec.size))
    whole = (slot["status"] == 0) & (sec >= 60) & (sec % 60 == 0) & (odd_minutes == 0)
    split = np.cumsum(DRIFT_SOURCE_SPLIT)[:-1]
    source = np.array([ID_GAMEBOOK, ID_BDL, ID_NBAC_PBP])[np.searchsorted(split, u[2])]
    return {
        "minutes_carry": whole & (u[0] < MINUTES_CARRY_P),
        # the source (ID_*) writing this player-game with the alternative identity; 0: none
        "id_drift": np.where((slot["status"] >= 0) & (u[1] < DRIFT_ROW_SHARE), source, 0),
    }


def with_corrections(
    table: pa.Table, game: np.ndarray, gc: GameCols, source: int, rebounds: tuple[str, ...]
) -> tuple[pa.Table, np.ndarray]:
    """Corrected games: one shooter's row is re-issued later with one stat fixed.

    Returns the table and the game of each of its rows (as with_dups takes them).
    The row already in `table` is the correct one; its processed_at becomes the correction's
    (game day + 3.5 days). The first version, processed_at unchanged, is appended with one
    stat wrong, consistently with the box-score rules: kind 0 one assist too many, kind 1 a
    made two scored as a miss (field goals made and points lower), kind 2 one defensive
    rebound too many (`rebounds`: the columns that count it).
    """
    f = gc.flags
    fga = pc.fill_null(table["field_goals_attempted"], 0).to_numpy()
    cand = np.flatnonzero(
        f["correction"][game] & np.isin(f["correction_target"][game], (source, 0)) & (fga > 0)
    )
    if cand.size == 0:
        return table, game
    g = game[cand]  # rows are in game order
    n_cand = np.bincount(g, minlength=gc.date.size)[g]
    pick = np.floor(f["correction_row"][g] * n_cand).astype(np.int64)
    rows = cand[segment_rank(g) == pick]
    g = game[rows]
    first = table.take(pa.array(rows))
    fgm = first["field_goals_made"].to_numpy()
    kind = f["correction_kind"][g]
    kind = np.where((kind == 1) & (fgm <= first["three_pointers_made"].to_numpy()), 0, kind)
    one = {k: (kind == k).astype(np.int64) for k in range(3)}
    deltas = {"assists": one[0], "field_goals_made": -one[1], "points": -2 * one[1]}
    deltas |= dict.fromkeys(rebounds, one[2])
    for col, delta in deltas.items():
        i = first.schema.get_field_index(col)
        first = first.set_column(i, col, pa.array(first[col].to_numpy() + delta))
    later = np.zeros(table.num_rows, dtype=bool)
    later[rows] = True
    ts = pc.if_else(
        pa.array(later),
        ts_col(gc.date[game], CORRECTION_SECONDS + gc.home[game] * 60),
        table["processed_at"],
    )
    table = table.set_column(table.schema.get_field_index("processed_at"), "processed_at", ts)
    return pa.concat_tables([table, first]), np.r_[game, g]


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
