"""Game simulation, one week of games at a time: statuses, minutes, team shot and
free-throw volumes, scores, then the event stream and the box scores counted from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.constants import (
    AND1_P,
    DNP_REASONS,
    E_END,
    E_FOUL,
    E_FT,
    E_REB,
    E_SHOT,
    E_START,
    E_TOV,
    INJURY_REASONS,
    MAKE_P,
    MINUTE_BASE,
    OT_LEN,
    OTHER_INACTIVE,
    R_AST,
    R_BLK,
    R_STL,
    REASON_CODE,
    REG_LEN,
    ROSTER,
    SUB_CODE,
    TWO_WAY_REASONS,
)
from synth.draws import Arrays, choice_codes, segment_rank
from synth.events import (
    Week,
    field_goal_events,
    free_throw_and_foul_events,
    game_frame,
    rebound_events,
    substitution_events,
    turnover_timeout_violation_events,
)
from synth.players import Pool
from synth.schedule import Games


@dataclass
class Sim:
    """Simulated games of one week: per roster slot rows and an event stream."""

    slot: dict[str, np.ndarray]  # flat over (game, side, slot)
    ev: dict[str, np.ndarray]
    points: np.ndarray  # (G, 2) away, home


def _statuses(rng: np.random.Generator, tg_n: int) -> dict[str, np.ndarray]:
    slot = np.broadcast_to(np.arange(ROSTER), (tg_n, ROSTER))
    n_rows = rng.choice([15, 16, 17, 18, 19], p=[0.05, 0.15, 0.30, 0.30, 0.20], size=tg_n)
    drop_key = rng.random((tg_n, ROSTER))
    drop_key[:, :10] = 9.0
    drop_key[:, 17:] = 9.0
    drop_rank = np.argsort(np.argsort(drop_key, axis=1), axis=1)
    present = drop_rank >= (ROSTER - n_rows)[:, None]
    two_way = slot >= 17
    injured = present & ~two_way & (rng.random((tg_n, ROSTER)) < 0.065)
    n_act = rng.choice([10, 11, 12, 13], p=[0.55, 0.33, 0.10, 0.02], size=tg_n)
    short = (present & ~two_way & ~injured).sum(axis=1) < n_act
    injured[short] = False
    avail = present & ~two_way & ~injured
    priority = np.where(avail, slot + rng.normal(0, 1.2, (tg_n, ROSTER)), 99.0)
    rank = np.argsort(np.argsort(priority, axis=1), axis=1)
    active = rank < n_act[:, None]
    other_out = avail & ~active & (rng.random((tg_n, ROSTER)) < 0.05)
    status = np.full((tg_n, ROSTER), -1, dtype=np.int64)
    status[present] = 2
    status[avail & ~active & ~other_out] = 1
    status[active] = 0
    reason = np.full((tg_n, ROSTER), -1, dtype=np.int64)
    for mask, options in (
        (status == 1, DNP_REASONS),
        (injured & present, INJURY_REASONS),
        (two_way & present, TWO_WAY_REASONS),
        (other_out, OTHER_INACTIVE),
    ):
        reason[mask] = choice_codes(rng, options, REASON_CODE, int(mask.sum()))
    return {"present": present, "status": status, "reason": reason, "rank": rank, "active": active}


def _minutes(rng: np.random.Generator, st: Arrays, game_len: np.ndarray) -> np.ndarray:
    """Seconds per slot: the actives of a team share exactly 5 x game length."""
    tg_n = game_len.size
    w = MINUTE_BASE[st["rank"]] * np.clip(rng.lognormal(0, 0.18, (tg_n, ROSTER)), 0.6, 1.45)
    zero = st["active"] & (st["rank"] >= 9) & (rng.random((tg_n, ROSTER)) < 0.004)
    w = np.where(st["active"] & ~zero, w, 0.0)
    total = 5 * game_len
    cap = (game_len - 90)[:, None].astype(float)  # nobody plays the whole game
    share = total[:, None] * w / w.sum(axis=1, keepdims=True)
    for _ in range(4):  # water-filling: move minutes above the cap to the uncapped players
        over = share > cap
        excess = np.where(over, share - cap, 0.0).sum(axis=1, keepdims=True)
        share = np.where(over, cap, share)
        free_w = np.where(over, 0.0, w)
        share += excess * free_w / np.maximum(free_w.sum(axis=1, keepdims=True), 1e-9)
    sec = np.floor(share).astype(np.int64)
    rem = total - sec.sum(axis=1)  # < number of actives: one second each down the rotation
    order = np.argsort(np.where(w > 0, sec, 10**9), axis=1, kind="stable")
    bump = np.zeros_like(sec)
    np.put_along_axis(bump, order, (np.arange(ROSTER)[None, :] < rem[:, None]).astype(np.int64), 1)
    return np.asarray(sec + bump)


def _shots(rng: np.random.Generator, tg_n: int, scale: np.ndarray) -> dict[str, np.ndarray]:
    """Team-level field goal attempts: zone, made, and-one (before players are assigned)."""
    fga = np.clip(np.rint(rng.normal(86.5, 4.0, tg_n) * scale), 74, 102).astype(np.int64)
    p3 = np.clip(rng.normal(0.395, 0.045, tg_n), 0.28, 0.52)
    hot = rng.normal(0, 0.012, tg_n)
    tg = np.repeat(np.arange(tg_n), fga)
    u = rng.random((4, tg.size))
    three = u[0] < p3[tg]
    zone = np.where(
        three,
        np.where(u[1] < 0.004, 5, np.where(u[1] < 0.224, 3, 4)),
        np.where(u[1] < 0.6, np.where(u[2] < 0.72, 0, 1), 2),
    )
    made = u[3] < np.clip(MAKE_P[zone] + hot[tg], 0.01, 0.95)
    and1 = made & (rng.random(tg.size) < AND1_P[zone])
    return {"tg": tg, "zone": zone, "made": made, "and1": and1}


def _free_throws(
    rng: np.random.Generator, shots: Arrays, tg_n: int, scale: np.ndarray
) -> dict[str, np.ndarray]:
    """Free throws: 2-shot trips (own cluster) and 1/1 after and-ones (shot's cluster)."""
    ft_pct = np.clip(rng.normal(0.775, 0.045, tg_n), 0.6, 0.92)
    trips = rng.poisson(10.8 * scale)
    trip_tg = np.repeat(np.arange(tg_n), trips)
    and1_idx = np.flatnonzero(shots["and1"])
    tg = np.r_[np.repeat(trip_tg, 2), shots["tg"][and1_idx]]
    kind = np.r_[np.tile([0, 1], trip_tg.size), np.full(and1_idx.size, 2)]  # FT_SUBTYPES idx
    trip = np.r_[np.repeat(np.arange(trip_tg.size), 2), and1_idx]  # trip id, or shot index
    made = rng.random(tg.size) < ft_pct[tg]
    return {"tg": tg, "kind": kind, "trip": trip, "made": made}


def _clamp_team_points(shots: Arrays, pts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Keep team points in a plausible band by flipping a few two-point outcomes."""
    tg, zone, made = shots["tg"], shots["zone"], shots["made"]  # sorted by tg
    need = np.ceil(np.maximum(0, lo - pts) / 2)
    excess = np.ceil(np.maximum(0, pts - hi) / 2)
    miss2 = np.flatnonzero(~made & (zone < 3))
    make2 = np.flatnonzero(made & (zone < 3) & ~shots["and1"])
    made[miss2[segment_rank(tg[miss2]) < need[tg[miss2]]]] = True
    made[make2[segment_rank(tg[make2]) < excess[tg[make2]]]] = False


def _fix_ties_and_swap(
    shots: Arrays, fts: Arrays, home_win: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Give the scheduled winner the higher score; returns (points (G,2), real side per sim tg)."""
    g_n = home_win.size
    tg_n = 2 * g_n

    def points() -> np.ndarray:
        val = np.where(shots["zone"] >= 3, 3, 2) * shots["made"]
        p = np.bincount(shots["tg"], val, minlength=tg_n)
        p += np.bincount(fts["tg"], fts["made"], minlength=tg_n)
        return p.astype(np.int64).reshape(g_n, 2)

    _clamp_team_points(shots, points().reshape(-1), *bounds)
    pts = points()
    want = home_win.astype(np.int64)  # winning side (1 home)
    tie = np.flatnonzero(pts[:, 0] == pts[:, 1])
    if tie.size:
        tie_tg = 2 * tie + want[tie]
        miss_ft = np.flatnonzero(~fts["made"] & np.isin(fts["tg"], tie_tg))
        first = miss_ft[np.unique(fts["tg"][miss_ft], return_index=True)[1]]
        fts["made"][first] = True
        rest = np.setdiff1d(tie_tg, fts["tg"][first])
        if rest.size:  # no missed free throw: a missed two becomes a make
            miss2 = np.flatnonzero(
                ~shots["made"] & (shots["zone"] < 3) & np.isin(shots["tg"], rest)
            )
            first2 = miss2[np.unique(shots["tg"][miss2], return_index=True)[1]]
            shots["made"][first2] = True
        pts = points()
    sim_winner = (pts[:, 1] > pts[:, 0]).astype(np.int64)
    swap = sim_winner != want
    side = (np.arange(tg_n) % 2) ^ np.repeat(swap, 2)
    real_tg = 2 * (np.arange(tg_n) // 2) + side
    real_pts = np.where(swap[:, None], pts[:, ::-1], pts)
    return real_pts, real_tg


def _weights(pool: Pool, pid: np.ndarray, sec: np.ndarray) -> dict[str, np.ndarray]:
    s = sec.astype(float)
    zp = pool.zone_pref[pid]  # (TG, 19, 3)
    use = pool.usage[pid] * s
    return {
        "paint": use * zp[..., 0],
        "mid": use * zp[..., 1],
        "three": use * zp[..., 2],
        "ft": use * (0.5 + zp[..., 0]),
        "reb": pool.reb[pid] * s,
        "ast": pool.ast[pid] * s,
        "blk": pool.blk[pid] * s,
        "stl": pool.stl[pid] * s,
        "tov": np.sqrt(pool.usage[pid]) * s,
        "foul": s,
        "sub": np.where(s > 0, 1.0, 0.0),
    }


def period_bounds(tc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reg = tc < REG_LEN
    period = np.where(reg, tc // 720 + 1, 5 + (tc - REG_LEN) // OT_LEN).astype(np.int64)
    pstart = np.where(period <= 4, (period - 1) * 720, REG_LEN + (period - 5) * OT_LEN)
    pend = pstart + np.where(period <= 4, 720, OT_LEN)
    return period, pstart, pend


def simulate_week(
    rng: np.random.Generator,
    games: Games,
    idx: np.ndarray,
    pool: Pool,
    rosters: dict[int, np.ndarray],
) -> Sim:
    """Simulate the games idx (one week): roster rows, events, then box scores from events."""
    g_n = idx.size
    tg_n = 2 * g_n
    n_ot = games.n_ot[idx]
    game_len = REG_LEN + OT_LEN * n_ot
    teams = np.stack([games.away[idx], games.home[idx]], axis=1).reshape(-1)  # tg -> team
    seasons = np.repeat(games.season[idx], 2)
    pid = np.stack([rosters[int(y)][t] for y, t in zip(seasons, teams, strict=True)])

    st = _statuses(rng, tg_n)
    sec = _minutes(rng, st, np.repeat(game_len, 2))
    wk = Week(
        rng, _weights(pool, pid, sec), np.repeat(game_len, 2), 1.0 + 0.05 * np.repeat(n_ot, 2)
    )
    shots = _shots(rng, tg_n, wk.scale)
    fts = _free_throws(rng, shots, tg_n, wk.scale)
    bounds = (78 + rng.integers(0, 10, tg_n), 140 + rng.integers(0, 10, tg_n))
    points, real_tg = _fix_ties_and_swap(shots, fts, games.home_win[idx], bounds)
    shots["tg"] = real_tg[shots["tg"]]
    fts["tg"] = real_tg[fts["tg"]]

    game_frame(wk, n_ot)
    shooter, shot_tc = field_goal_events(wk, shots)
    ft_shooter, ft_tc = free_throw_and_foul_events(wk, shots, fts, shooter, shot_tc)
    rebound_events(wk, shots, shot_tc, fts, ft_tc)
    turnover_timeout_violation_events(wk)
    substitution_events(wk, g_n)
    events = wk.ev.concat()

    slot = {
        "pid": pid.reshape(-1),
        "status": st["status"].reshape(-1),
        "reason": st["reason"].reshape(-1),
        "sec": sec.reshape(-1),
        "g": np.repeat(np.arange(g_n), 2 * ROSTER),
        "side": np.tile(np.repeat([0, 1], ROSTER), g_n),
        **_box_from_events(events, tg_n),
    }
    slot["pm"] = _plus_minus(rng, slot, points, game_len)
    return Sim(slot=slot, ev=_order_events(events), points=points)


def _box_from_events(ev: dict[str, np.ndarray], tg_n: int) -> dict[str, np.ndarray]:
    """Every box score column, per (team-game, slot), counted from the events."""
    n = tg_n * ROSTER

    def count(mask: np.ndarray, second: bool = False) -> np.ndarray:
        tg, slot = (ev["p2tg"], ev["p2"]) if second else (ev["atg"], ev["p1"])
        return np.bincount((tg * ROSTER + slot)[mask], minlength=n).astype(np.int64)

    et, made, three, role = ev["etype"], ev["made"] == 1, ev["stype"] == 1, ev["role"]
    shot, ft, reb, tov = et == E_SHOT, et == E_FT, et == E_REB, et == E_TOV
    off = ev["esub"] == SUB_CODE["offensive"]
    return {
        "fga": count(shot),
        "fgm": count(shot & made),
        "tpa": count(shot & three),
        "tpm": count(shot & three & made),
        "fta": count(ft),
        "ftm": count(ft & made),
        "oreb": count(reb & off),
        "dreb": count(reb & ~off),
        "ast": count(shot & (role == R_AST), second=True),
        "blk": count(shot & (role == R_BLK), second=True),
        "stl": count(tov & (role == R_STL), second=True),
        "tov": count(tov),
        "pf": count(et == E_FOUL),
    }


def _plus_minus(rng: np.random.Generator, slot: Arrays, points: np.ndarray,
                game_len: np.ndarray) -> np.ndarray:  # fmt: skip
    g, side = slot["g"], slot["side"]
    margin = np.where(side == 1, points[g, 1] - points[g, 0], points[g, 0] - points[g, 1])
    share = slot["sec"] / game_len[g]
    pm = np.rint(margin * share + rng.normal(0, 1, g.size) * 6 * np.sqrt(share))
    return np.where(slot["sec"] > 0, pm, 0).astype(np.int64)


def _order_events(ev: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sort by game and time; derive period, elapsed seconds and clock consistently."""
    order = np.lexsort((ev["sub"], ev["tc"], ev["g"]))
    ev = {k: v[order] for k, v in ev.items()}
    period, pstart, pend = period_bounds(ev["tc"])
    el = np.floor(ev["tc"]).astype(np.int64) + ev["eoff"]
    el = np.where(ev["etype"] == E_END, pend, np.where(ev["etype"] == E_START, pstart, el))
    el = np.clip(el, pstart, pend)
    # monotone within a game (never past the period end: earlier events are <= it)
    el = np.maximum.accumulate(el + ev["g"] * 100_000) - ev["g"] * 100_000
    ev["period"] = period
    ev["elapsed"] = el
    ev["clock"] = pend - el
    ev["seq"] = segment_rank(ev["g"]) + 1
    return ev
