"""Calendar and schedule: regular season, play-in, playoffs; the games of a window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synth.constants import EAST, N_TEAMS, S_CORRECTION, S_SEASON, TEAMS
from synth.draws import seeded_rng
from synth.messiness import correction_flags, game_flags


def _next_weekday(d: dt.date, weekday: int) -> dt.date:
    return d + dt.timedelta(days=(weekday - d.weekday()) % 7)


@dataclass
class Games:
    """One row per game (all seasons generated), plus per-game messiness flags."""

    date: np.ndarray  # datetime64[D]
    season: np.ndarray
    home: np.ndarray
    away: np.ndarray
    home_win: np.ndarray
    n_ot: np.ndarray
    kind: np.ndarray  # 0 regular, 1 play-in, 2 playoffs
    nba_id: list[str]
    flags: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.date.size


KIND_NAMES = ("Regular Season", "PlayIn", "Playoffs")


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x))))


def _draw_ot(rng: np.random.Generator, n: int) -> np.ndarray:
    u = rng.random(n)
    return (u < 0.06).astype(np.int64) + (u < 0.009) + (u < 0.0015)


def _regular_season(rng: np.random.Generator, year: int, rating: np.ndarray) -> dict[str, Any]:
    opening = _next_weekday(dt.date(year, 10, 18), 1)  # Tuesday Oct 18-24
    last_day = _next_weekday(dt.date(year + 1, 4, 8), 6)  # Sunday Apr 8-14
    asg = _next_weekday(dt.date(year + 1, 2, 15), 6)  # third Sunday of February
    skip = {asg + dt.timedelta(days=k) for k in range(-3, 4)}
    skip |= {_next_weekday(dt.date(year, 11, 22), 3), dt.date(year, 12, 24)}
    cands = [
        opening + dt.timedelta(days=k)
        for k in range((last_day - opening).days + 1)
        if opening + dt.timedelta(days=k) not in skip
    ]
    n_dates = min(len(cands), int(rng.integers(160, 169)))
    drop = set(rng.choice(np.arange(1, len(cands) - 1), len(cands) - n_dates, replace=False))
    dates = np.array([d for i, d in enumerate(cands) if i not in drop], dtype="datetime64[D]")
    bounds = (np.arange(83) * dates.size) // 82
    home_count = np.zeros(N_TEAMS, dtype=np.int64)
    g_date, g_home, g_away = [], [], []
    for r in range(82):
        perm = rng.permutation(N_TEAMS)
        a, b = perm[0::2], perm[1::2]
        coin = rng.random(15) < 0.5
        b_home = (home_count[a] > home_count[b]) | ((home_count[a] == home_count[b]) & coin)
        home = np.where(b_home, b, a)
        away = np.where(b_home, a, b)
        home_count[home] += 1
        round_dates = dates[bounds[r] : bounds[r + 1]]
        g_date.append(round_dates[rng.integers(0, round_dates.size, 15)])
        g_home.append(home)
        g_away.append(away)
    date = np.concatenate(g_date)
    home = np.concatenate(g_home)
    away = np.concatenate(g_away)
    order = np.lexsort((home, date))
    date, home, away = date[order], home[order], away[order]
    home_win = rng.random(date.size) < _sigmoid(0.2 + rating[home] - rating[away])
    return {
        "date": date,
        "home": home,
        "away": away,
        "home_win": home_win,
        "n_ot": _draw_ot(rng, date.size),
        "kind": np.zeros(date.size, dtype=np.int64),
        "nba_id": [f"002{year % 100:02d}{i + 1:05d}" for i in range(date.size)],
    }


def _conference_seeds(wins: np.ndarray, rating: np.ndarray) -> tuple[list[int], list[int]]:
    order = np.lexsort((-rating, -wins))
    east = [int(t) for t in order if TEAMS[t] in EAST]
    west = [int(t) for t in order if TEAMS[t] not in EAST]
    return east, west


class _Post:
    """Collects play-in / playoff games of one season."""

    def __init__(self, rng: np.random.Generator, rating: np.ndarray, year: int) -> None:
        self.rng, self.rating, self.year = rng, rating, year
        self.rows: list[tuple[Any, ...]] = []

    def game(self, date: dt.date, home: int, away: int, kind: int, seq: str) -> int:
        """Add a game; return the winner."""
        home_win = bool(self.rng.random() < _sigmoid(0.2 + self.rating[home] - self.rating[away]))
        n_ot = int(_draw_ot(self.rng, 1)[0])
        nba_id = f"00{4 if kind == 2 else 5}{self.year % 100:02d}{seq}"
        self.rows.append((date, home, away, home_win, n_ot, kind, nba_id))
        return home if home_win else away


def _play_in(post: _Post, seeds: tuple[list[int], list[int]], last_day: dt.date) -> list[list[int]]:
    """Play-in (6 games); returns the 8 playoff seeds per conference."""
    tuesday = last_day + dt.timedelta(days=2)
    out: list[list[int]] = []
    n = 0
    for c, conf in enumerate(seeds):
        s7, s8, s9, s10 = conf[6:10]
        day = tuesday + dt.timedelta(days=c)
        n += 1
        w78 = post.game(day, s7, s8, 1, f"{n:05d}")
        n += 1
        w910 = post.game(day, s9, s10, 1, f"{n:05d}")
        l78 = s8 if w78 == s7 else s7
        n += 1
        final = post.game(tuesday + dt.timedelta(days=3), l78, w910, 1, f"{n:05d}")
        out.append([*conf[:6], w78, final])
    return out


def _series(post: _Post, start: dt.date, hi: int, lo: int, rnd: int, s: int) -> tuple[int, dt.date]:
    wins = {hi: 0, lo: 0}
    k = 0
    day = start
    while max(wins.values()) < 4:
        home, away = (hi, lo) if k in (0, 1, 4, 6) else (lo, hi)
        day = start + dt.timedelta(days=2 * k)
        wins[post.game(day, home, away, 2, f"00{rnd}{s}{k + 1}")] += 1
        k += 1
    return (hi if wins[hi] == 4 else lo), day


def _playoffs(post: _Post, seeds: list[list[int]], start: dt.date, wins: np.ndarray) -> None:
    # bracket order per conference: 1v8, 4v5, 3v6, 2v7
    rounds = [[(conf[a], conf[b]) for a, b in ((0, 7), (3, 4), (2, 5), (1, 6))] for conf in seeds]
    pairs = rounds[0] + rounds[1]
    rank = {t: i for conf in seeds for i, t in enumerate(conf)}
    for rnd in (1, 2, 3, 4):
        winners, last = [], start
        for s, (hi, lo) in enumerate(pairs):
            w, end = _series(post, start + dt.timedelta(days=s % 2), hi, lo, rnd, s)
            winners.append(w)
            last = max(last, end)
        start = last + dt.timedelta(days=2)
        if rnd < 4:
            nxt = [(winners[i], winners[i + 1]) for i in range(0, len(winners), 2)]
            if rnd == 3:
                key = {t: (-wins[t], rank[t]) for t in winners}
            else:
                key = {t: (rank[t], 0) for t in winners}
            pairs = [(a, b) if key[a] <= key[b] else (b, a) for a, b in nxt]


def season_schedule(seed: int, year: int) -> dict[str, Any]:
    rng = seeded_rng(seed, S_SEASON, year)
    rating = rng.normal(0.0, 0.55, N_TEAMS)
    reg = _regular_season(rng, year, rating)
    winners = np.where(reg["home_win"], reg["home"], reg["away"])
    wins = np.bincount(winners, minlength=N_TEAMS)
    post = _Post(rng, rating, year)
    last_day = dt.date.fromisoformat(str(reg["date"][-1]))
    seeds = _play_in(post, _conference_seeds(wins, rating), last_day)
    _playoffs(post, seeds, last_day + dt.timedelta(days=7), wins)
    cols = list(zip(*post.rows, strict=True))
    games = {
        "date": np.r_[reg["date"], np.array(cols[0], dtype="datetime64[D]")],
        "home": np.r_[reg["home"], np.array(cols[1])],
        "away": np.r_[reg["away"], np.array(cols[2])],
        "home_win": np.r_[reg["home_win"], np.array(cols[3], dtype=bool)],
        "n_ot": np.r_[reg["n_ot"], np.array(cols[4])],
        "kind": np.r_[reg["kind"], np.array(cols[5])],
        "nba_id": reg["nba_id"] + list(cols[6]),
    }
    games["flags"] = game_flags(rng, games["date"].size)
    games["flags"] |= correction_flags(seeded_rng(seed, S_CORRECTION, year), games["date"].size)
    return games


def build_games(seed: int, start: dt.date, end: dt.date, clean: bool) -> Games:
    """Games of every season overlapping the window, restricted to weeks touching it."""
    parts = [
        season_schedule(seed, y) | {"year": y} for y in range(season_of(start), season_of(end) + 1)
    ]
    date = np.concatenate([p["date"] for p in parts])
    week = week_key(date)
    keep = (week >= week_key(np.datetime64(start))) & (week <= week_key(np.datetime64(end)))
    idx = np.flatnonzero(keep)
    season = np.concatenate([np.full(p["date"].size, p["year"]) for p in parts])
    nba_ids = [i for p in parts for i in p["nba_id"]]

    def cat(key: str) -> np.ndarray:
        return np.concatenate([p[key] for p in parts])[idx]

    flags = {k: np.concatenate([p["flags"][k] for p in parts])[idx] for k in parts[0]["flags"]}
    if clean:
        flags = {k: np.zeros_like(v) if v.dtype == bool else v for k, v in flags.items()}
    return Games(
        date=date[idx],
        season=season[idx],
        home=cat("home"),
        away=cat("away"),
        home_win=cat("home_win"),
        n_ot=cat("n_ot"),
        kind=cat("kind"),
        nba_id=[nba_ids[i] for i in idx],
        flags=flags,
    )


def season_of(day: dt.date) -> int:
    """The season a date belongs to: the year it starts in (October or later: that year)."""
    return day.year if day.month >= 10 else day.year - 1


def season_windows(start: dt.date, end: dt.date) -> list[tuple[int, dt.date, dt.date]]:
    """[start, end] cut at season boundaries (October 1): (season, first day, last day)."""
    return [
        (y, max(start, dt.date(y, 10, 1)), min(end, dt.date(y + 1, 9, 30)))
        for y in range(season_of(start), season_of(end) + 1)
    ]


def week_key(date: np.ndarray | np.datetime64) -> np.ndarray:
    # 1970-01-01 was a Thursday; +3 makes weeks start on Monday
    return (date.astype("datetime64[D]").astype(np.int64) + 3) // 7
