"""generate(): simulate the weeks touching the window, then write the six tables."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from driver.project import load_contract
from synth.box_scores import bdl_table, gamebook_table, schedule_table, team_box_table
from synth.columns import game_cols
from synth.constants import FIRST_SEASON, ROSTER, S_WEEK
from synth.draws import seeded_rng
from synth.messiness import row_messiness, with_dups
from synth.play_by_play import bigdataball_table, nbacom_table
from synth.players import Pool, build_pool, season_rosters
from synth.schedule import Games, build_games, week_key
from synth.simulate import Sim, simulate_week
from synth.writer import ARROW_TYPES, write_atomic


def generate(
    seed: int,
    start: dt.date,
    end: dt.date,
    out: Path,
    clean: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, int]:
    """Generate the six raw tables for [start, end]; returns rows written per table."""
    t0 = time.perf_counter()
    pool = build_pool(seed)
    games = build_games(seed, start, end, clean)
    if len(games) == 0:
        log("no games in the window (July-September has none); writing empty tables")
    last_season = int(games.season.max()) if len(games) else FIRST_SEASON
    rosters = season_rosters(seed, pool, max(last_season, FIRST_SEASON))
    week = week_key(games.date)
    sims: list[tuple[np.ndarray, Sim, dict[str, np.ndarray]]] = []
    for key in np.unique(np.stack([games.season, week], axis=1), axis=0):
        idx = np.flatnonzero((games.season == key[0]) & (week == key[1]))
        rng = seeded_rng(seed, S_WEEK, key[0], key[1])
        sim = simulate_week(rng, games, idx, pool, rosters)
        extra = row_messiness(rng, sim.slot, idx.size)
        if clean:
            extra = {k: v if k == "bdl_keep" else np.zeros_like(v) for k, v in extra.items()}
        sim.slot["g"] = idx[sim.slot["g"]]
        sim.ev["g"] = idx[sim.ev["g"]]
        sims.append((idx, sim, extra))
    log(f"simulated {len(games)} games in {time.perf_counter() - t0:.1f}s")
    return _write_all(games, start, end, pool, sims, out, t0, log)


def _write_all(
    games: Games,
    start: dt.date,
    end: dt.date,
    pool: Pool,
    sims: list[tuple[np.ndarray, Sim, dict[str, np.ndarray]]],
    out: Path,
    t0: float,
    log: Callable[[str], None],
) -> dict[str, int]:
    in_win = (games.date >= np.datetime64(start)) & (games.date <= np.datetime64(end))
    keep = np.flatnonzero(in_win)
    remap = np.full(len(games), -1)
    remap[keep] = np.arange(keep.size)
    gc = game_cols(games, keep)
    points = np.zeros((len(games), 2), dtype=np.int64)
    for idx, sim, _ in sims:
        points[idx] = sim.points
    points = points[keep]
    builders: dict[str, Callable[[], Iterator[pa.Table]]] = {}
    if keep.size:
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
        n_ot = games.n_ot[keep]

        def bdb_batches() -> Iterator[pa.Table]:  # ~250k events per batch: bounded memory
            cuts = np.searchsorted(ev["g"], np.arange(0, keep.size, 500))
            for lo, hi in zip(cuts, np.r_[cuts[1:], ev["g"].size], strict=True):
                part = {k: v[lo:hi] for k, v in ev.items()}
                yield with_dups(*bigdataball_table(gc, part, pool, s_pid, g_slot0), gc)

        builders = {
            "nbac_gamebook_player_stats": lambda: iter(
                [with_dups(*gamebook_table(gc, s, pool, x), gc)]
            ),
            "bdl_player_boxscores": lambda: iter([with_dups(*bdl_table(gc, s, pool, x), gc)]),
            "bigdataball_play_by_play": bdb_batches,
            "nbac_play_by_play": lambda: iter(
                [with_dups(*nbacom_table(gc, ev, pool, s_pid, g_slot0), gc)]
            ),
            "nbac_team_boxscore": lambda: iter(
                [with_dups(*team_box_table(gc, s, points, n_ot), gc)]
            ),
            "nbac_schedule": lambda: iter([schedule_table(gc, points)[0]]),
        }
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, spec in load_contract("raw_tables")["tables"].items():
        schema = pa.schema([(c, ARROW_TYPES[t]) for c, t in spec["columns"].items()])
        batches = builders[name]() if name in builders else iter([schema.empty_table()])
        counts[name] = write_atomic(schema, batches, out / f"{name}.parquet")
    log(f"wrote {len(counts)} tables to {out} in {time.perf_counter() - t0:.1f}s")
    return counts


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
