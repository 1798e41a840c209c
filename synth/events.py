"""Event builders: each adds one kind of play-by-play event to a week's stream."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synth.constants import (
    ASSIST_P,
    BLOCK_P,
    E_END,
    E_FOUL,
    E_FT,
    E_JUMP,
    E_REB,
    E_SHOT,
    E_START,
    E_SUB,
    E_TO,
    E_TOV,
    E_VIOL,
    FT_SUBTYPES,
    OT_LEN,
    R_AST,
    R_BLK,
    R_FOULED,
    R_JUMP,
    R_STL,
    R_SUBIN,
    REG_LEN,
    ROSTER,
    SUB_CODE,
    TIMEOUT_SUBTYPES,
    TOV_SUBTYPES,
    VIOL_SUBTYPES,
    ZONE_SUBTYPES,
)
from synth.draws import Arrays, choice_codes, pick, pick_excluding, segment_rank


def _assign_fouls(rng: np.random.Generator, w_foul: np.ndarray, foul_tg: np.ndarray) -> np.ndarray:
    """A fouler per foul (grouped by team), no player above six fouls (Gumbel top-k)."""
    tg_n = w_foul.shape[0]
    counts = np.bincount(foul_tg, minlength=tg_n)
    with np.errstate(divide="ignore"):
        logw = np.log(w_foul)
    keys = logw[:, :, None] + rng.gumbel(size=(tg_n, ROSTER, 6))
    keys = keys.reshape(tg_n, ROSTER * 6)
    order = np.argsort(-keys, axis=1, kind="stable")
    take = np.arange(ROSTER * 6)[None, :] < counts[:, None]
    chosen = (order // 6)[take]  # row-major: grouped by team in team order
    fouler = np.empty(foul_tg.size, dtype=np.int64)
    fouler[np.argsort(foul_tg, kind="stable")] = chosen
    return fouler


def _shot_xy(rng: np.random.Generator, zone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shot location in tenths of feet, basket at (0, 0), consistent with the zone."""
    n = zone.size
    x = np.zeros(n)
    y = np.zeros(n)
    m = zone == 0
    r = rng.uniform(0, 40, m.sum())
    phi = rng.uniform(-0.2 * np.pi, 1.2 * np.pi, m.sum())
    x[m], y[m] = r * np.cos(phi), r * np.sin(phi)
    m = zone == 1
    x[m], y[m] = rng.uniform(-78, 78, m.sum()), rng.uniform(42, 135, m.sum())
    m = zone == 3
    x[m] = rng.choice([-1, 1], m.sum()) * rng.uniform(221, 246, m.sum())
    y[m] = rng.uniform(-45, 90, m.sum())
    m = zone == 4
    d = np.minimum(238.5 + np.abs(rng.normal(0, 14, m.sum())), 320)
    lo = np.maximum(np.arcsin(92.5 / d), np.arccos(np.minimum(245 / d, 1.0))) + 0.01
    phi = rng.uniform(lo, np.pi - lo)
    x[m], y[m] = d * np.cos(phi), d * np.sin(phi)
    m = zone == 5
    x[m], y[m] = rng.uniform(-200, 200, m.sum()), rng.uniform(430, 800, m.sum())
    todo = np.flatnonzero(zone == 2)
    while todo.size:  # mid-range: a two outside the paint, inside the arc
        cx = np.rint(rng.uniform(-215, 215, todo.size))
        cy = np.rint(rng.uniform(-45, 232, todo.size))
        dist = np.hypot(cx, cy)
        ok = ((np.abs(cx) > 80) | (cy > 137.5)) & (dist < 232) & (dist >= 80)
        ok &= (np.abs(cx) < 220) | (cy > 92.5)
        x[todo[ok]], y[todo[ok]] = cx[ok], cy[ok]
        todo = todo[~ok]
    return np.rint(x), np.rint(y)


def _shot_subtypes(rng: np.random.Generator, zone: np.ndarray) -> np.ndarray:
    out = np.zeros(zone.size, dtype=np.int64)
    for z, options in enumerate(ZONE_SUBTYPES):
        m = zone == z
        out[m] = choice_codes(rng, options, SUB_CODE, int(m.sum()))
    return out


class Events:
    """Accumulates event blocks (dicts of equal-length arrays), one row per event.

    g: game (in the week); tc: cluster time (s since tip-off); sub: order within the
    cluster; eoff: seconds added to the clock for this event; atg / p1: the actor's
    team-game and roster slot; p2tg / p2 / role: the second player; made / stype / pts:
    shot outcome, 2PT 3PT FT, points; x / y: shot location (tenths of feet).
    """

    COLS = ("g", "tc", "sub", "eoff", "etype", "esub", "atg", "p1", "p2tg", "p2", "role",
            "made", "stype", "pts", "x", "y")  # fmt: skip

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(self, n: int, **cols: np.ndarray | float | int) -> None:
        block: dict[str, np.ndarray] = {}
        for c in self.COLS:
            default = np.nan if c in ("x", "y") else -1
            v = cols.get(c, 0 if c == "eoff" else default)
            block[c] = (
                np.broadcast_to(np.asarray(v), (n,)).copy() if np.ndim(v) == 0 else np.asarray(v)
            )
        self.blocks.append(block)

    def games(self, g_n: int) -> np.ndarray:
        """Events so far per game."""
        return sum((np.bincount(b["g"], minlength=g_n) for b in self.blocks), np.zeros(g_n, int))

    def concat(self) -> dict[str, np.ndarray]:
        return {c: np.concatenate([b[c] for b in self.blocks]) for c in self.COLS}


@dataclass
class Week:
    """What the event builders of one week share."""

    rng: np.random.Generator
    w: dict[str, np.ndarray]  # per (team-game, slot) draw weights, see _weights
    tg_len: np.ndarray  # game length in seconds, per team-game
    scale: np.ndarray  # volume factor per team-game (overtime means more of everything)
    ev: Events = field(default_factory=Events)

    @property
    def tg_n(self) -> int:
        return self.tg_len.size

    def per_team(self, mean: float | np.ndarray) -> np.ndarray:
        """Team-game index repeated a Poisson(mean) number of times."""
        return np.repeat(np.arange(self.tg_n), self.rng.poisson(mean, self.tg_n))

    def times(self, tg: np.ndarray) -> np.ndarray:
        return event_times(self.rng, self.tg_len[tg])


def event_times(rng: np.random.Generator, length: np.ndarray) -> np.ndarray:
    """Event cluster times in (0, length), a quarter second or more from any whole second."""
    u = rng.uniform(0, 1, length.size) * length
    return np.asarray(np.floor(u) + 0.25 + 0.5 * (u - np.floor(u)))


def game_frame(wk: Week, n_ot: np.ndarray) -> None:
    """Start and end of every period, and the opening jump ball."""
    g_n = n_ot.size
    pg = np.repeat(np.arange(g_n), 4 + n_ot)
    pnum = segment_rank(pg) + 1
    pstart = np.where(pnum <= 4, (pnum - 1) * 720, REG_LEN + (pnum - 5) * OT_LEN)
    pend = pstart + np.where(pnum <= 4, 720, OT_LEN)
    wk.ev.add(pg.size, g=pg, tc=pstart.astype(float), sub=-1, etype=E_START)
    wk.ev.add(pg.size, g=pg, tc=pend - 1e-7, sub=99, etype=E_END)
    home = 2 * np.arange(g_n) + 1
    wk.ev.add(g_n, g=np.arange(g_n), tc=1e-6, sub=0, etype=E_JUMP, atg=home,
              p1=pick(wk.rng, wk.w["reb"], home), p2tg=home - 1,
              p2=pick(wk.rng, wk.w["reb"], home - 1), role=R_JUMP)  # fmt: skip


def field_goal_events(wk: Week, shots: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """Shot rows (assist or block on the row); returns shooter slot and time per shot."""
    rng, w = wk.rng, wk.w
    zone, made, tg = shots["zone"], shots["made"], shots["tg"]
    n = zone.size
    shooter = np.zeros(n, dtype=np.int64)
    for key, zmask in (("paint", zone <= 1), ("mid", zone == 2), ("three", zone >= 3)):
        rows = np.flatnonzero(zmask)
        shooter[rows] = pick(rng, w[key], tg[rows])
    assisted = made & (rng.random(n) < ASSIST_P[zone])
    blocked = ~made & (rng.random(n) < BLOCK_P[zone])
    p2 = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(assisted)
    p2[rows] = pick_excluding(rng, w["ast"], tg[rows], shooter[rows])
    rows = np.flatnonzero(blocked)
    p2[rows] = pick(rng, w["blk"], tg[rows] ^ 1)
    x, y = _shot_xy(rng, zone)
    tc = wk.times(tg)
    three = zone >= 3
    wk.ev.add(n, g=tg // 2, tc=tc, sub=0, etype=E_SHOT, esub=_shot_subtypes(rng, zone), atg=tg,
              p1=shooter, p2tg=np.where(blocked, tg ^ 1, tg), p2=p2,
              role=np.select([blocked, assisted], [R_BLK, R_AST], -1), made=made.astype(int),
              stype=three.astype(int), pts=np.where(three, 3, 2) * made, x=x, y=y)  # fmt: skip
    return shooter, tc


def free_throw_and_foul_events(
    wk: Week, shots: Arrays, fts: Arrays, shooter: np.ndarray, shot_tc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Free throws with their shooting fouls, plus non-shooting fouls (max six a player).

    A 2-shot trip is its own cluster (foul, 1/2, 2/2); an and-one joins its shot's
    cluster (shot, foul, 1/1). Returns shooter slot and time per free throw.
    """
    rng = wk.rng
    tg, kind, trip = fts["tg"], fts["kind"], fts["trip"]
    and1 = kind == 2
    trip_tg = tg[~and1][0::2]
    trip_shooter = pick(rng, wk.w["ft"], trip_tg)
    trip_tc = wk.times(trip_tg)
    ft_shooter = np.where(
        and1, shooter[np.where(and1, trip, 0)], trip_shooter[np.where(and1, 0, trip)]
    )
    ft_tc = np.where(and1, shot_tc[np.where(and1, trip, 0)], trip_tc[np.where(and1, 0, trip)])
    made = fts["made"].astype(int)
    wk.ev.add(tg.size, g=tg // 2, tc=ft_tc, sub=np.where(and1, 3, kind + 1), etype=E_FT,
              esub=np.array([SUB_CODE[s] for s in FT_SUBTYPES])[kind], atg=tg, p1=ft_shooter,
              made=made, stype=2, pts=made)  # fmt: skip

    and1_shot = np.flatnonzero(shots["and1"])
    fouled_tg = np.r_[trip_tg, shots["tg"][and1_shot]]
    fouled = np.r_[trip_shooter, shooter[and1_shot]]
    other_tg = wk.per_team(8.5 * wk.scale)
    fouler = _assign_fouls(rng, wk.w["foul"], np.r_[fouled_tg ^ 1, other_tg])
    n = fouled_tg.size
    wk.ev.add(n, g=fouled_tg // 2, tc=np.r_[trip_tc, shot_tc[and1_shot]],
              sub=np.r_[np.zeros(trip_tg.size, int), np.ones(and1_shot.size, int)],
              etype=E_FOUL, esub=SUB_CODE["shooting"], atg=fouled_tg ^ 1, p1=fouler[:n],
              p2tg=fouled_tg, p2=fouled, role=R_FOULED)  # fmt: skip
    kinds = (("personal", 0.7), ("loose ball", 0.2), ("personal take", 0.1))
    wk.ev.add(other_tg.size, g=other_tg // 2, tc=wk.times(other_tg), sub=0, etype=E_FOUL,
              esub=choice_codes(rng, kinds, SUB_CODE, other_tg.size), atg=other_tg,
              p1=fouler[n:])  # fmt: skip
    return ft_shooter, ft_tc


def rebound_events(
    wk: Week, shots: Arrays, shot_tc: np.ndarray, fts: Arrays, ft_tc: np.ndarray
) -> None:
    """A rebound after every missed field goal and every missed last free throw."""
    miss = ~shots["made"]
    last_ft = (fts["kind"] >= 1) & ~fts["made"]
    src_tg = np.r_[shots["tg"][miss], fts["tg"][last_ft]]
    after_ft = np.r_[np.zeros(miss.sum(), bool), np.ones(last_ft.sum(), bool)]
    offensive = wk.rng.random(src_tg.size) < np.where(after_ft, 0.13, 0.26)
    tg = np.where(offensive, src_tg, src_tg ^ 1)
    rebounder = pick(wk.rng, wk.w["reb"], tg)
    ft_sub = np.where(fts["kind"] == 2, 4, 3)[last_ft]
    tc = np.r_[shot_tc[miss] + 1e-4, ft_tc[last_ft]]
    eoff = np.where(after_ft, 0, 1 + wk.rng.integers(0, 2, tg.size))  # a live ball takes time
    wk.ev.add(tg.size, g=tg // 2, tc=tc, sub=np.r_[np.full(miss.sum(), 2), ft_sub], eoff=eoff,
              etype=E_REB, esub=np.where(offensive, SUB_CODE["offensive"], SUB_CODE["defensive"]),
              atg=tg, p1=rebounder)  # fmt: skip


def turnover_timeout_violation_events(wk: Week) -> None:
    rng, w = wk.rng, wk.w
    tg = wk.per_team(13.2 * wk.scale)
    stolen = rng.random(tg.size) < 0.55
    stealer = np.where(stolen, pick(rng, w["stl"], tg ^ 1), -1)
    wk.ev.add(tg.size, g=tg // 2, tc=wk.times(tg), sub=0, etype=E_TOV,
              esub=choice_codes(rng, tuple((s, 1.0) for s in TOV_SUBTYPES), SUB_CODE, tg.size),
              atg=tg, p1=pick(rng, w["tov"], tg), p2tg=tg ^ 1, p2=stealer,
              role=np.where(stolen, R_STL, -1))  # fmt: skip
    tg = wk.per_team(6.4)
    kinds = ((TIMEOUT_SUBTYPES[0], 0.8), (TIMEOUT_SUBTYPES[1], 0.2))
    wk.ev.add(tg.size, g=tg // 2, tc=wk.times(tg), sub=0, etype=E_TO,
              esub=choice_codes(rng, kinds, SUB_CODE, tg.size), atg=tg)  # fmt: skip
    tg = wk.per_team(1.1)
    kind = rng.integers(0, 3, tg.size)  # kicked ball and lane have a player, delay of game not
    wk.ev.add(tg.size, g=tg // 2, tc=wk.times(tg), sub=0, etype=E_VIOL,
              esub=np.array([SUB_CODE[s] for s in VIOL_SUBTYPES])[kind], atg=tg,
              p1=np.where(kind < 2, pick(rng, w["foul"], tg), -1))  # fmt: skip


def substitution_events(wk: Week, g_n: int, lo: int = 360, hi: int = 545) -> None:
    """Substitutions fill each game to lo..hi events (they touch no box score column)."""
    others = wk.ev.games(g_n)
    drawn = wk.rng.poisson(44.0 * wk.scale[0::2])
    n_sub = np.maximum(np.clip(others + drawn, lo, hi) - others, 0)
    tg = np.repeat(np.arange(wk.tg_n), np.stack([n_sub // 2, n_sub - n_sub // 2], 1).reshape(-1))
    out = pick(wk.rng, wk.w["sub"], tg)
    wk.ev.add(tg.size, g=tg // 2, tc=wk.times(tg), sub=0, etype=E_SUB, atg=tg, p1=out, p2tg=tg,
              p2=pick_excluding(wk.rng, wk.w["sub"], tg, out), role=R_SUBIN)  # fmt: skip
