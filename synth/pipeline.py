"""generate(): simulate the weeks touching the window, then write the six tables."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from synth.box_scores import bdl_table, gamebook_table, schedule_table, team_box_table
from synth.columns import game_cols
from synth.constants import FIRST_SEASON, ID_BDL, ID_GAMEBOOK, ROSTER, S_ROW_FAULTS, S_WEEK
from synth.draws import seeded_rng
from synth.messiness import (
    identity_variants,
    row_faults,
    row_messiness,
    with_corrections,
    with_dups,
)
from synth.play_by_play import bigdataball_table, nbacom_table
from synth.players import Pool, build_pool, season_rosters
from synth.schedule import Games, build_games, season_windows, week_key
from synth.simulate import Sim, simulate_week
from synth.writer import TableFiles, contract_schemas

GB_REBOUNDS = ("defensive_rebounds", "total_rebounds")


def generate(
    seed: int,
    start: dt.date,
    end: dt.date,
    out: Path,
    clean: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, int]:
    """Generate the six raw tables for [start, end]; returns rows written per table.

    Season by season: a season is simulated, its rows appended to every table's file and
    dropped before the next one, so memory stays that of one season however long the window.
    """
    t0 = time.perf_counter()
    pool = identity_variants(seed, build_pool(seed))
    windows = season_windows(start, end)
    rosters = season_rosters(seed, pool, max(windows[-1][0], FIRST_SEASON))
    n_games = 0
    with TableFiles(out, contract_schemas()) as files:
        for year, lo, hi in windows:
            games = build_games(seed, lo, hi, clean)
            n_games += _write_season(
                files, games, lo, hi, pool, _simulate(seed, games, pool, rosters, clean)
            )
            elapsed = time.perf_counter() - t0
            log(f"season {year}-{(year + 1) % 100:02d}: {len(games)} games, {elapsed:.1f}s")
    if n_games == 0:
        log("no games in the window (July-September has none); wrote empty tables")
    log(f"wrote {len(files.counts)} tables to {out} in {time.perf_counter() - t0:.1f}s")
    return files.counts


def _simulate(
    seed: int, games: Games, pool: Pool, rosters: dict[int, np.ndarray], clean: bool
) -> list[tuple[np.ndarray, Sim, dict[str, np.ndarray]]]:
    """Simulate the games week by week (one random stream per season and week)."""
    week = week_key(games.date)
    sims: list[tuple[np.ndarray, Sim, dict[str, np.ndarray]]] = []
    for key in np.unique(np.stack([games.season, week], axis=1), axis=0):
        idx = np.flatnonzero((games.season == key[0]) & (week == key[1]))
        rng = seeded_rng(seed, S_WEEK, key[0], key[1])
        sim = simulate_week(rng, games, idx, pool, rosters)
        extra = row_messiness(rng, sim.slot, idx.size)
        faults = seeded_rng(seed, S_ROW_FAULTS, key[0], key[1])
        extra |= row_faults(faults, sim.slot, extra["odd_minutes"])
        if clean:
            extra = {k: v if k == "bdl_keep" else np.zeros_like(v) for k, v in extra.items()}
        sim.slot["g"] = idx[sim.slot["g"]]
        sim.ev["g"] = idx[sim.ev["g"]]
        sims.append((idx, sim, extra))
    return sims


def _write_season(
    files: TableFiles,
    games: Games,
    start: dt.date,
    end: dt.date,
    pool: Pool,
    sims: list[tuple[np.ndarray, Sim, dict[str, np.ndarray]]],
) -> int:
    """Append the rows of the simulated games dated in [start, end]; returns their number."""
    in_win = (games.date >= np.datetime64(start)) & (games.date <= np.datetime64(end))
    keep = np.flatnonzero(in_win)
    if keep.size == 0:
        return 0
    remap = np.full(len(games), -1)
    remap[keep] = np.arange(keep.size)
    gc = game_cols(games, keep)
    points = np.zeros((len(games), 2), dtype=np.int64)
    for idx, sim, _ in sims:
        points[idx] = sim.points
    points = points[keep]
    x = _concat_window([extra | {"g": sim.slot["g"]} for _, sim, extra in sims], remap)
    s = _concat_window([sim.slot for _, sim, _ in sims], remap)
    ev = _concat_window([sim.ev for _, sim, _ in sims], remap)
    sims.clear()
    s["points"] = 2 * s["fgm"] + s["tpm"] + s["ftm"]
    for col in ("atg", "p2tg"):  # week-local team-game -> window team-game
        ev[col] = np.where(ev[col] >= 0, 2 * ev["g"] + ev[col] % 2, -1)
    s_pid = s["pid"]
    g_slot0 = np.arange(2 * keep.size) * ROSTER  # first slot row of each team-game
    assert np.array_equal(s["g"], np.repeat(np.arange(keep.size), 2 * ROSTER)), (
        "slot rows are not in window game order"
    )

    def bdb_batches() -> Iterator[pa.Table]:  # ~250k events per batch: bounded memory
        cuts = np.searchsorted(ev["g"], np.arange(0, keep.size, 500))
        for lo, hi in zip(cuts, np.r_[cuts[1:], ev["g"].size], strict=True):
            part = {k: v[lo:hi] for k, v in ev.items()}
            yield with_dups(*bigdataball_table(gc, part, pool, s_pid, g_slot0), gc)

    gamebook = with_corrections(*gamebook_table(gc, s, pool, x), gc, ID_GAMEBOOK, GB_REBOUNDS)
    files.write("nbac_gamebook_player_stats", [with_dups(*gamebook, gc)])
    bdl = with_corrections(*bdl_table(gc, s, pool, x), gc, ID_BDL, ("rebounds",))
    files.write("bdl_player_boxscores", [with_dups(*bdl, gc)])
    files.write("bigdataball_play_by_play", bdb_batches())
    nbacom = nbacom_table(gc, ev, pool, s_pid, g_slot0, x["id_drift"])
    files.write("nbac_play_by_play", [with_dups(*nbacom, gc)])
    files.write(
        "nbac_team_boxscore", [with_dups(*team_box_table(gc, s, points, games.n_ot[keep]), gc)]
    )
    files.write("nbac_schedule", [schedule_table(gc, points)[0]])
    return int(keep.size)


def _concat_window(parts: list[dict[str, np.ndarray]], remap: np.ndarray) -> dict[str, np.ndarray]:
    """Concatenate per-week arrays (global game index in "g"), keep the window's games.

    Rows come out ordered by window game (stable: a game's rows keep their order), which
    the table builders rely on: slot rows of team-game k start at row k * ROSTER, events
    are grouped by game. The weeks alone do not give that order: post-season games are
    indexed in bracket order (series by series), not by date, so a later week can hold a
    game with a smaller index.
    """
    g = remap[np.concatenate([p["g"] for p in parts])]
    rows = np.flatnonzero(g >= 0)  # remap is -1 outside the window
    rows = rows[np.argsort(g[rows], kind="stable")]
    out = {}
    for k in list(parts[0]):
        out[k] = np.concatenate([p[k] for p in parts])[rows]
        for p in parts:  # free as we go
            del p[k]
    out["g"] = g[rows]
    return out
