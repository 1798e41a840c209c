"""Write synthetic raw NBA tables (the six of contract/raw_tables.yml) as Parquet.

`python -m driver generate --start-date D --end-date D --seed N --out DIR [--clean]`

Whole seasons overlapping the window are scheduled (regular season, play-in,
playoffs), games are simulated week by week as vectorised event streams (shots,
free throws, rebounds, fouls, ...) and the box scores are aggregated from those
events, so play-by-play and box scores agree exactly. Randomness comes from the
seed and the season (schedule) or the seed and the week (games), so a game is
identical whatever window selects it. Messiness is on by default (see
docs/synthetic_data.md); --clean turns it off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from driver.dates import parse_window
from driver.errors import UsageError
from driver.project import load_contract

# --------------------------------------------------------------------------- constants


def _words(text: str) -> list[str]:
    return text.split()


TEAMS = [
    "ATL",
    "BOS",
    "BKN",
    "CHA",
    "CHI",
    "CLE",
    "DAL",
    "DEN",
    "DET",
    "GSW",
    "HOU",
    "IND",
    "LAC",
    "LAL",
    "MEM",
    "MIA",
    "MIL",
    "MIN",
    "NOP",
    "NYK",
    "OKC",
    "ORL",
    "PHI",
    "PHX",
    "POR",
    "SAC",
    "SAS",
    "TOR",
    "UTA",
    "WAS",
]
EAST = frozenset(
    [
        "ATL",
        "BOS",
        "BKN",
        "CHA",
        "CHI",
        "CLE",
        "DET",
        "IND",
        "MIA",
        "MIL",
        "NYK",
        "ORL",
        "PHI",
        "TOR",
        "WAS",
    ]
)
N_TEAMS = 30
ROSTER = 19  # season roster slots per team: 0-16 ordered by quality, 17-18 two-way
FIRST_SEASON, LAST_SEASON = 1990, 2040
POOL_SIZE = 9000
REG_LEN = 2880  # regulation seconds
OT_LEN = 300

# random streams (first words of the seed sequence)
S_POOL, S_ROSTER, S_SEASON, S_WEEK = 11, 12, 13, 14

ARROW_TYPES = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}

FIRST_NAMES = _words(
    "James Michael Chris Anthony Kevin Stephen Jalen Jaylen Jayson Tyrese Devin Donovan "
    "Damian Trae Luka Nikola Joel Giannis Karl-Anthony Zion Ja De'Aaron Darius Dejounte "
    "Bam Jimmy Kyle Fred Pascal Scottie Josh Jordan Brandon Marcus Terry Tyler Cameron "
    "Mikal Jrue Khris Bobby Brook Aaron Gary Miles Myles Andrew Cade Jaden Jabari Paolo "
    "Evan Franz Alperen Dāvis Théo Ömer Goran Bogdan Bojan Jusuf Domantas Jonas Dennis "
    "Kristaps José Dário Vasilije Jokūbas Killian Nicolas Rudy Mouhamed Usman Santi "
    "Keegan Malik Herbert Immanuel Isaiah Jarrett Derrick Dillon Desmond Royce Russell "
    "Shai Kawhi Paul DeMar Zach Lonzo Tari OG Precious Onyeka Chet Victor Walker Anfernee "
    "Kentavious Caleb Cody Dyson Grayson Harrison Jaxson Kelly Lauri Max Naz Obi Quentin "
    "Reggie Saddiq Tre Wendell Xavier Yuta Ziaire Ayo Bennedict Cole Day'Ron Eric "
    "Garrison P.J. C.J. T.J. R.J. A.J. D.J. O.G. J.J. "
)
LAST_NAMES = _words(
    "Johnson Williams Brown Jones Miller Davis Wilson Anderson Thomas Taylor Moore "
    "Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen "
    "King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter "
    "Phillips Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers "
    "Morgan Cooper Peterson Reed Bailey Bell Howard Ward Cox Richardson Wood Watson "
    "Brooks Bennett Gray James Hayes Myers Ford Hamilton Graham Sullivan Wallace West "
    "Cole Jordan Reynolds Ellis Jokić Dončić Nurkić Valančiūnas Porziņģis Schröder "
    "Antetokounmpo Šarić Bogdanović Vučević Bertāns Dēmanis Sengün Şengün Hernangómez "
    "Calderón Alvarado Barrios Garza Nikolić Jović Micić Bitadze Žižić Kleber Lessort "
    "Théodore Fernández Müller Krejčí Gilgeous-Alexander Caldwell-Pope Horton-Tucker "
    "Towns Lowry Hardaway Porter Payton Jaquez Hachimura Kuminga Wembanyama Holmgren "
    "Banchero Cunningham Mobley Ivey Sochan Achiuwa Agbaji Okongwu Okoro Onuaku Toppin "
    "Tillman Washington Huerter Herro Haliburton Maxey Quickley Ingram McCollum Murray "
    "Poole Kispert Vassell Gafford Hunter Bridges Claxton Bamba Fultz Suggs Wagner "
    "Anunoby Barnes Siakam Trent Flynn Boucher Poeltl Markkanen Sexton Clarkson Kessler "
    "Olynyk Beasley Vanderbilt Reaves Hachimura Russell Christie Vincent Prince Kleber "
    "Exum Hardy Lively Gafford Dinwiddie Irving Doncic Tatum Holiday Horford Brogdon "
    "Hauser Kornet Pritchard Tillman O'Neale DiVincenzo Hart Brunson Randle Robinson "
    "McBride Sims Grimes Quickley Barrett Ntilikina Bogut "
)
SUFFIXES = ("Jr.", "II", "III", "IV", "Sr.")

# --------------------------------------------------------------------------- codes

# BigDataBall event types (index = code)
ETYPES = (
    "shot",
    "free throw",
    "rebound",
    "foul",
    "turnover",
    "substitution",
    "timeout",
    "jump ball",
    "start of period",
    "end of period",
    "violation",
)
E_SHOT, E_FT, E_REB, E_FOUL, E_TOV, E_SUB, E_TO, E_JUMP, E_START, E_END, E_VIOL = range(11)
NBA_ETYPES = (
    "2pt",
    "3pt",
    "freethrow",
    "rebound",
    "foul",
    "turnover",
    "substitution",
    "timeout",
    "jumpball",
    "period",
    "violation",
    "block",
    "steal",
)
ROLES = ("assist", "block", "steal", "substitution_in", "fouled", "jump_ball")
R_AST, R_BLK, R_STL, R_SUBIN, R_FOULED, R_JUMP = range(6)
SHOT_TYPES = ("2PT", "3PT", "FT")

# zones: 0 restricted area, 1 paint (non-RA), 2 mid-range, 3 corner 3, 4 above the break 3,
# 5 backcourt
ZONE_SUBTYPES: tuple[tuple[tuple[str, float], ...], ...] = (
    (("layup", 0.28), ("driving layup", 0.32), ("dunk", 0.22), ("alley oop dunk", 0.06),
     ("tip layup shot", 0.05), ("cutting layup", 0.07)),
    (("floating jump shot", 0.33), ("hook shot", 0.25), ("jump shot", 0.17),
     ("driving floating jump shot", 0.15), ("turnaround hook shot", 0.10)),
    (("jump shot", 0.45), ("pullup jump shot", 0.30), ("turnaround fadeaway", 0.12),
     ("step back jump shot", 0.13)),
    (("3pt jump shot", 0.70), ("3pt pullup jump shot", 0.15), ("3pt step back jump shot", 0.15)),
    (("3pt jump shot", 0.60), ("3pt pullup jump shot", 0.22), ("3pt step back jump shot", 0.12),
     ("3pt running jump shot", 0.06)),
    (("3pt jump shot", 1.0),),
)  # fmt: skip
FT_SUBTYPES = ("free throw 1/2", "free throw 2/2", "free throw 1/1")
REB_SUBTYPES = ("offensive", "defensive")
FOUL_SUBTYPES = ("shooting", "personal", "loose ball", "personal take")
TOV_SUBTYPES = ("bad pass", "lost ball", "traveling", "out of bounds lost ball", "shot clock")
VIOL_SUBTYPES = ("kicked ball", "lane", "delay of game", "defensive goaltending violation")
TIMEOUT_SUBTYPES = ("regular", "full timeout")


def _build_subtypes() -> tuple[list[str], dict[str, int]]:
    names: list[str] = []
    for zone in ZONE_SUBTYPES:
        names += [n for n, _ in zone]
    names += [*FT_SUBTYPES, *REB_SUBTYPES, *FOUL_SUBTYPES, *TOV_SUBTYPES, *VIOL_SUBTYPES]
    names += list(TIMEOUT_SUBTYPES)
    uniq = list(dict.fromkeys(names))
    return uniq, {n: i for i, n in enumerate(uniq)}


SUBTYPES, SUB_CODE = _build_subtypes()

MAKE_P = np.array([0.63, 0.43, 0.41, 0.385, 0.355, 0.03])
BLOCK_P = np.array([0.22, 0.15, 0.08, 0.05, 0.05, 0.0])
AND1_P = np.array([0.085, 0.05, 0.02, 0.008, 0.008, 0.0])
ASSIST_P = np.array([0.56, 0.50, 0.42, 0.90, 0.84, 0.0])
MINUTE_BASE = np.array([34, 33, 32, 31, 30, 24, 22, 20, 15, 12, 8, 6, 5, 4, 4, 4, 4, 4, 4.0])

DNP_REASONS = (
    ("DNP - Coach's Decision", 0.86),
    ("DNP - Injury/Illness - Left Knee; Soreness", 0.04),
    ("DNP - Injury/Illness - Right Ankle; Sprain", 0.03),
    ("DNP - Rest", 0.04),
    ("DNP - Load Management", 0.03),
)
INJURY_REASONS = (
    ("Injury/Illness - Lumbar; Disc Bulge", 0.10),
    ("Injury/Illness - Right Ankle; Sprain", 0.18),
    ("Injury/Illness - Left Knee; Soreness", 0.14),
    ("DNP - Injury/Illness - Left Knee; Soreness", 0.06),
    ("Injury/Illness - Left Hamstring; Strain", 0.12),
    ("Injury/Illness - Right Foot; Plantar Fasciitis", 0.07),
    ("Injury/Illness - Illness; Non-COVID", 0.08),
    ("Injury/Illness - Right Shoulder; Surgery", 0.05),
    ("Injury/Illness - Left Knee; Injury Management", 0.06),
    ("NWT - Health and Safety Protocols", 0.06),
    ("NWT - Not With Team", 0.04),
    ("Personal", 0.02),
    ("Rest", 0.01),
    ("Load Management", 0.01),
)
TWO_WAY_REASONS = (("G League - Two-Way", 0.85), ("G League - On Assignment", 0.15))
OTHER_INACTIVE = (("NWT - Not With Team", 0.3), ("Personal", 0.3), ("Rest", 0.25),
                  ("NWT - Personal Reasons", 0.15))  # fmt: skip
REASONS = list(
    dict.fromkeys(n for grp in (DNP_REASONS, INJURY_REASONS, TWO_WAY_REASONS, OTHER_INACTIVE)
                  for n, _ in grp)
)  # fmt: skip
REASON_CODE = {n: i for i, n in enumerate(REASONS)}
STATUSES = ("active", "dnp", "inactive")

# per-player stat columns aggregated from events (order matters)
STATS = ("fgm", "fga", "tpm", "tpa", "ftm", "fta", "oreb", "dreb", "ast", "stl", "blk", "tov", "pf")


# --------------------------------------------------------------------------- small helpers


def player_lookup(name: str) -> str:
    """domain.md §2: NFKC, strip diacritics, casefold, keep [a-z0-9]."""
    s = unicodedata.normalize("NFKC", name)
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", s.casefold())


def _rng(*words: int) -> np.random.Generator:
    return np.random.default_rng([int(w) for w in words])


def _choice_codes(
    rng: np.random.Generator, options: tuple[tuple[str, float], ...], codes: dict, n: int
) -> np.ndarray:
    p = np.array([w for _, w in options], dtype=float)
    return rng.choice(np.array([codes[name] for name, _ in options]), size=n, p=p / p.sum())


def _next_weekday(d: dt.date, weekday: int) -> dt.date:
    return d + dt.timedelta(days=(weekday - d.weekday()) % 7)


def _pick(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row index, draw a column of `weights[row]` with probability proportional to it."""
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    c = np.cumsum(weights[rows], axis=1)
    u = rng.random(rows.size) * c[:, -1]
    return np.minimum((c <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _pick_excluding(
    rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray, exclude: np.ndarray
) -> np.ndarray:
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    w = weights[rows].copy()
    w[np.arange(rows.size), exclude] = 0.0
    c = np.cumsum(w, axis=1)
    u = rng.random(rows.size) * c[:, -1]
    return np.minimum((c <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _segment_rank(keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal (sorted) keys."""
    n = keys.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
    lens = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, lens)


# --------------------------------------------------------------------------- player pool


@dataclass
class Pool:
    """Every player the league can ever have (ids 0..POOL_SIZE-1) and their traits."""

    name: list[str]
    last: list[str]  # last name with suffix, as inactive rows print it
    lookup: list[str]
    bdb_lookup: list[str]  # suffix stripped (BigDataBall drift)
    nba_id: np.ndarray
    quality: np.ndarray
    usage: np.ndarray
    zone_pref: np.ndarray  # (P, 3) paint / mid / three
    reb: np.ndarray
    ast: np.ndarray
    blk: np.ndarray
    stl: np.ndarray


def build_pool(seed: int) -> Pool:
    rng = _rng(seed, S_POOL)
    n_cand = POOL_SIZE * 2
    first = rng.integers(0, len(FIRST_NAMES), n_cand)
    last = rng.integers(0, len(LAST_NAMES), n_cand)
    hyph = rng.random(n_cand) < 0.04
    last2 = rng.integers(0, len(LAST_NAMES), n_cand)
    suffix = np.where(rng.random(n_cand) < 0.06, rng.integers(0, len(SUFFIXES), n_cand), -1)
    names, lasts, lookups, bdb = [], [], [], []
    seen: set[str] = set()
    for i in range(n_cand):
        ln = LAST_NAMES[last[i]]
        if hyph[i] and "-" not in ln and LAST_NAMES[last2[i]] != ln:
            ln = f"{ln}-{LAST_NAMES[last2[i]]}"
        base = f"{FIRST_NAMES[first[i]]} {ln}"
        key = player_lookup(base)
        if key in seen:
            continue
        seen.add(key)
        sfx = f" {SUFFIXES[suffix[i]]}" if suffix[i] >= 0 else ""
        names.append(base + sfx)
        lasts.append(ln + sfx)
        lookups.append(player_lookup(base + sfx))
        bdb.append(key)
        if len(names) == POOL_SIZE:
            break
    if len(names) < POOL_SIZE:  # pragma: no cover - name lists are large enough
        raise RuntimeError("player name lists too small for the pool")
    quality = rng.normal(0.0, 1.0, POOL_SIZE)
    zone_pref = rng.dirichlet([6.0, 4.0, 6.5], POOL_SIZE)
    return Pool(
        name=names,
        last=lasts,
        lookup=lookups,
        bdb_lookup=bdb,
        nba_id=1626000 + rng.permutation(POOL_SIZE) * 3 + rng.integers(0, 3, POOL_SIZE),
        quality=quality,
        usage=np.exp(0.45 * quality + rng.normal(0, 0.3, POOL_SIZE)),
        zone_pref=zone_pref,
        reb=np.exp(rng.normal(0, 0.45, POOL_SIZE)),
        ast=np.exp(rng.normal(0, 0.55, POOL_SIZE)),
        blk=np.exp(rng.normal(0, 0.7, POOL_SIZE)),
        stl=np.exp(rng.normal(0, 0.4, POOL_SIZE)),
    )


def season_rosters(seed: int, pool: Pool, last_season: int) -> dict[int, np.ndarray]:
    """Rosters (30, ROSTER) of player ids for every season up to last_season.

    Evolves from FIRST_SEASON with turnover and trades, so players carry over seasons.
    """
    n = N_TEAMS * ROSTER
    slots = np.arange(n)
    next_pid = n
    out: dict[int, np.ndarray] = {}
    for year in range(FIRST_SEASON, last_season + 1):
        rng = _rng(seed, S_ROSTER, year)
        if year > FIRST_SEASON:
            leave = np.flatnonzero(rng.random(n) < 0.2)
            slots[leave] = np.arange(next_pid, next_pid + leave.size)
            next_pid += leave.size
            traded = np.flatnonzero(rng.random(n) < 0.12)
            slots[traded] = slots[rng.permutation(traded)]
        teams = slots.reshape(N_TEAMS, ROSTER)
        score = pool.quality[teams] + rng.normal(0, 0.35, teams.shape)
        order = np.argsort(-score, axis=1, kind="stable")
        out[year] = np.take_along_axis(teams, order, axis=1).copy()
        slots = out[year].reshape(-1).copy()
    return out


# --------------------------------------------------------------------------- schedule


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
    return 1.0 / (1.0 + np.exp(-np.asarray(x)))


def _draw_ot(rng: np.random.Generator, n: int) -> np.ndarray:
    u = rng.random(n)
    return (u < 0.06).astype(np.int64) + (u < 0.009) + (u < 0.0015)


def _regular_season(rng: np.random.Generator, year: int, rating: np.ndarray) -> dict:
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
        self.rows: list[tuple] = []

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


def season_schedule(seed: int, year: int) -> dict:
    rng = _rng(seed, S_SEASON, year)
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
    games["flags"] = _game_flags(rng, games["date"].size)
    return games


def _game_flags(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
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


def build_games(seed: int, start: dt.date, end: dt.date, clean: bool) -> Games:
    """Games of every season overlapping the window, restricted to weeks touching it."""
    first = start.year if start.month >= 10 else start.year - 1
    last = end.year if end.month >= 10 else end.year - 1
    parts = [season_schedule(seed, y) | {"year": y} for y in range(first, last + 1)]
    date = np.concatenate([p["date"] for p in parts])
    week = _week_key(date)
    keep = (week >= _week_key(np.datetime64(start))) & (week <= _week_key(np.datetime64(end)))
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


def _week_key(date: np.ndarray) -> np.ndarray:
    # 1970-01-01 was a Thursday; +3 makes weeks start on Monday
    return (date.astype("datetime64[D]").astype(np.int64) + 3) // 7


# --------------------------------------------------------------------------- game simulation


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
        reason[mask] = _choice_codes(rng, options, REASON_CODE, int(mask.sum()))
    return {"present": present, "status": status, "reason": reason, "rank": rank, "active": active}


def _minutes(rng: np.random.Generator, st: dict, game_len: np.ndarray) -> np.ndarray:
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
    return sec + bump


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
    rng: np.random.Generator, shots: dict, tg_n: int, scale: np.ndarray
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
    return {"tg": tg, "kind": kind, "trip": trip, "made": made, "n_trips": trip_tg.size}


def _clamp_team_points(shots: dict, pts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Keep team points in a plausible band by flipping a few two-point outcomes."""
    tg, zone, made = shots["tg"], shots["zone"], shots["made"]  # sorted by tg
    need = np.ceil(np.maximum(0, lo - pts) / 2)
    excess = np.ceil(np.maximum(0, pts - hi) / 2)
    miss2 = np.flatnonzero(~made & (zone < 3))
    make2 = np.flatnonzero(made & (zone < 3) & ~shots["and1"])
    made[miss2[_segment_rank(tg[miss2]) < need[tg[miss2]]]] = True
    made[make2[_segment_rank(tg[make2]) < excess[tg[make2]]]] = False


def _fix_ties_and_swap(
    shots: dict, fts: dict, home_win: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]
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
        out[m] = _choice_codes(rng, options, SUB_CODE, int(m.sum()))
    return out


class _Events:
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
            block[c] = np.broadcast_to(np.asarray(v), (n,)).copy() if np.ndim(v) == 0 else v
        self.blocks.append(block)

    def games(self, g_n: int) -> np.ndarray:
        """Events so far per game."""
        return sum((np.bincount(b["g"], minlength=g_n) for b in self.blocks), np.zeros(g_n, int))

    def concat(self) -> dict[str, np.ndarray]:
        return {c: np.concatenate([b[c] for b in self.blocks]) for c in self.COLS}


@dataclass
class _Week:
    """What the event builders of one week share."""

    rng: np.random.Generator
    w: dict[str, np.ndarray]  # per (team-game, slot) draw weights, see _weights
    tg_len: np.ndarray  # game length in seconds, per team-game
    scale: np.ndarray  # volume factor per team-game (overtime means more of everything)
    ev: _Events = field(default_factory=_Events)

    @property
    def tg_n(self) -> int:
        return self.tg_len.size

    def per_team(self, mean: float | np.ndarray) -> np.ndarray:
        """Team-game index repeated a Poisson(mean) number of times."""
        return np.repeat(np.arange(self.tg_n), self.rng.poisson(mean, self.tg_n))

    def times(self, tg: np.ndarray) -> np.ndarray:
        return _times(self.rng, self.tg_len[tg])


def _times(rng: np.random.Generator, length: np.ndarray) -> np.ndarray:
    """Event cluster times in (0, length), a quarter second or more from any whole second."""
    u = rng.uniform(0, 1, length.size) * length
    return np.floor(u) + 0.25 + 0.5 * (u - np.floor(u))


def _period_bounds(tc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reg = tc < REG_LEN
    period = np.where(reg, tc // 720 + 1, 5 + (tc - REG_LEN) // OT_LEN).astype(np.int64)
    pstart = np.where(period <= 4, (period - 1) * 720, REG_LEN + (period - 5) * OT_LEN)
    pend = pstart + np.where(period <= 4, 720, OT_LEN)
    return period, pstart, pend


def simulate_week(
    rng: np.random.Generator, games: Games, idx: np.ndarray, pool: Pool, rosters: dict
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
    wk = _Week(
        rng, _weights(pool, pid, sec), np.repeat(game_len, 2), 1.0 + 0.05 * np.repeat(n_ot, 2)
    )
    shots = _shots(rng, tg_n, wk.scale)
    fts = _free_throws(rng, shots, tg_n, wk.scale)
    bounds = (78 + rng.integers(0, 10, tg_n), 140 + rng.integers(0, 10, tg_n))
    points, real_tg = _fix_ties_and_swap(shots, fts, games.home_win[idx], bounds)
    shots["tg"] = real_tg[shots["tg"]]
    fts["tg"] = real_tg[fts["tg"]]

    _game_frame(wk, n_ot)
    shooter, shot_tc = _field_goal_events(wk, shots)
    ft_shooter, ft_tc = _free_throw_and_foul_events(wk, shots, fts, shooter, shot_tc)
    _rebound_events(wk, shots, shot_tc, fts, ft_tc)
    _turnover_timeout_violation_events(wk)
    _substitution_events(wk, g_n)
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


def _game_frame(wk: _Week, n_ot: np.ndarray) -> None:
    """Start and end of every period, and the opening jump ball."""
    g_n = n_ot.size
    pg = np.repeat(np.arange(g_n), 4 + n_ot)
    pnum = _segment_rank(pg) + 1
    pstart = np.where(pnum <= 4, (pnum - 1) * 720, REG_LEN + (pnum - 5) * OT_LEN)
    pend = pstart + np.where(pnum <= 4, 720, OT_LEN)
    wk.ev.add(pg.size, g=pg, tc=pstart.astype(float), sub=-1, etype=E_START)
    wk.ev.add(pg.size, g=pg, tc=pend - 1e-7, sub=99, etype=E_END)
    home = 2 * np.arange(g_n) + 1
    wk.ev.add(g_n, g=np.arange(g_n), tc=1e-6, sub=0, etype=E_JUMP, atg=home,
              p1=_pick(wk.rng, wk.w["reb"], home), p2tg=home - 1,
              p2=_pick(wk.rng, wk.w["reb"], home - 1), role=R_JUMP)  # fmt: skip


def _field_goal_events(wk: _Week, shots: dict) -> tuple[np.ndarray, np.ndarray]:
    """Shot rows (assist or block on the row); returns shooter slot and time per shot."""
    rng, w = wk.rng, wk.w
    zone, made, tg = shots["zone"], shots["made"], shots["tg"]
    n = zone.size
    shooter = np.zeros(n, dtype=np.int64)
    for key, zmask in (("paint", zone <= 1), ("mid", zone == 2), ("three", zone >= 3)):
        rows = np.flatnonzero(zmask)
        shooter[rows] = _pick(rng, w[key], tg[rows])
    assisted = made & (rng.random(n) < ASSIST_P[zone])
    blocked = ~made & (rng.random(n) < BLOCK_P[zone])
    p2 = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(assisted)
    p2[rows] = _pick_excluding(rng, w["ast"], tg[rows], shooter[rows])
    rows = np.flatnonzero(blocked)
    p2[rows] = _pick(rng, w["blk"], tg[rows] ^ 1)
    x, y = _shot_xy(rng, zone)
    tc = wk.times(tg)
    three = zone >= 3
    wk.ev.add(n, g=tg // 2, tc=tc, sub=0, etype=E_SHOT, esub=_shot_subtypes(rng, zone), atg=tg,
              p1=shooter, p2tg=np.where(blocked, tg ^ 1, tg), p2=p2,
              role=np.select([blocked, assisted], [R_BLK, R_AST], -1), made=made.astype(int),
              stype=three.astype(int), pts=np.where(three, 3, 2) * made, x=x, y=y)  # fmt: skip
    return shooter, tc


def _free_throw_and_foul_events(
    wk: _Week, shots: dict, fts: dict, shooter: np.ndarray, shot_tc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Free throws with their shooting fouls, plus non-shooting fouls (max six a player).

    A 2-shot trip is its own cluster (foul, 1/2, 2/2); an and-one joins its shot's
    cluster (shot, foul, 1/1). Returns shooter slot and time per free throw.
    """
    rng = wk.rng
    tg, kind, trip = fts["tg"], fts["kind"], fts["trip"]
    and1 = kind == 2
    trip_tg = tg[~and1][0::2]
    trip_shooter = _pick(rng, wk.w["ft"], trip_tg)
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
              esub=_choice_codes(rng, kinds, SUB_CODE, other_tg.size), atg=other_tg,
              p1=fouler[n:])  # fmt: skip
    return ft_shooter, ft_tc


def _rebound_events(
    wk: _Week, shots: dict, shot_tc: np.ndarray, fts: dict, ft_tc: np.ndarray
) -> None:
    """A rebound after every missed field goal and every missed last free throw."""
    miss = ~shots["made"]
    last_ft = (fts["kind"] >= 1) & ~fts["made"]
    src_tg = np.r_[shots["tg"][miss], fts["tg"][last_ft]]
    after_ft = np.r_[np.zeros(miss.sum(), bool), np.ones(last_ft.sum(), bool)]
    offensive = wk.rng.random(src_tg.size) < np.where(after_ft, 0.13, 0.26)
    tg = np.where(offensive, src_tg, src_tg ^ 1)
    rebounder = _pick(wk.rng, wk.w["reb"], tg)
    ft_sub = np.where(fts["kind"] == 2, 4, 3)[last_ft]
    tc = np.r_[shot_tc[miss] + 1e-4, ft_tc[last_ft]]
    eoff = np.where(after_ft, 0, 1 + wk.rng.integers(0, 2, tg.size))  # a live ball takes time
    wk.ev.add(tg.size, g=tg // 2, tc=tc, sub=np.r_[np.full(miss.sum(), 2), ft_sub], eoff=eoff,
              etype=E_REB, esub=np.where(offensive, SUB_CODE["offensive"], SUB_CODE["defensive"]),
              atg=tg, p1=rebounder)  # fmt: skip


def _turnover_timeout_violation_events(wk: _Week) -> None:
    rng, w = wk.rng, wk.w
    tg = wk.per_team(13.2 * wk.scale)
    stolen = rng.random(tg.size) < 0.55
    stealer = np.where(stolen, _pick(rng, w["stl"], tg ^ 1), -1)
    wk.ev.add(tg.size, g=tg // 2, tc=wk.times(tg), sub=0, etype=E_TOV,
              esub=_choice_codes(rng, tuple((s, 1.0) for s in TOV_SUBTYPES), SUB_CODE, tg.size),
              atg=tg, p1=_pick(rng, w["tov"], tg), p2tg=tg ^ 1, p2=stealer,
              role=np.where(stolen, R_STL, -1))  # fmt: skip
    tg = wk.per_team(6.4)
    kinds = ((TIMEOUT_SUBTYPES[0], 0.8), (TIMEOUT_SUBTYPES[1], 0.2))
    wk.ev.add(tg.size, g=tg // 2, tc=wk.times(tg), sub=0, etype=E_TO,
              esub=_choice_codes(rng, kinds, SUB_CODE, tg.size), atg=tg)  # fmt: skip
    tg = wk.per_team(1.1)
    kind = rng.integers(0, 3, tg.size)  # kicked ball and lane have a player, delay of game not
    wk.ev.add(tg.size, g=tg // 2, tc=wk.times(tg), sub=0, etype=E_VIOL,
              esub=np.array([SUB_CODE[s] for s in VIOL_SUBTYPES])[kind], atg=tg,
              p1=np.where(kind < 2, _pick(rng, w["foul"], tg), -1))  # fmt: skip


def _substitution_events(wk: _Week, g_n: int, lo: int = 360, hi: int = 545) -> None:
    """Substitutions fill each game to lo..hi events (they touch no box score column)."""
    others = wk.ev.games(g_n)
    drawn = wk.rng.poisson(44.0 * wk.scale[0::2])
    n_sub = np.maximum(np.clip(others + drawn, lo, hi) - others, 0)
    tg = np.repeat(np.arange(wk.tg_n), np.stack([n_sub // 2, n_sub - n_sub // 2], 1).reshape(-1))
    out = _pick(wk.rng, wk.w["sub"], tg)
    wk.ev.add(tg.size, g=tg // 2, tc=wk.times(tg), sub=0, etype=E_SUB, atg=tg, p1=out, p2tg=tg,
              p2=_pick_excluding(wk.rng, wk.w["sub"], tg, out), role=R_SUBIN)  # fmt: skip


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


def _plus_minus(rng: np.random.Generator, slot: dict, points: np.ndarray,
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
    period, pstart, pend = _period_bounds(ev["tc"])
    el = np.floor(ev["tc"]).astype(np.int64) + ev["eoff"]
    el = np.where(ev["etype"] == E_END, pend, np.where(ev["etype"] == E_START, pstart, el))
    el = np.clip(el, pstart, pend)
    # monotone within a game (never past the period end: earlier events are <= it)
    el = np.maximum.accumulate(el + ev["g"] * 100_000) - ev["g"] * 100_000
    ev["period"] = period
    ev["elapsed"] = el
    ev["clock"] = pend - el
    ev["seq"] = _segment_rank(ev["g"]) + 1
    return ev


# --------------------------------------------------------------------------- table building

_MMSS = np.array([f"{s // 60:02d}:{s % 60:02d}" for s in range(8000)])
_MSS = np.array([f"{s // 60}:{s % 60:02d}" for s in range(8000)])
_INTS = np.array([str(i) for i in range(10000)])


def _str(
    values: np.ndarray | list[str], codes: np.ndarray, mask: np.ndarray | None = None
) -> pa.Array:
    """Strings by code into `values` (NULL where mask or code < 0)."""
    codes = np.asarray(codes)
    null = codes < 0 if mask is None else (mask | (codes < 0))
    idx = pa.array(np.where(null, 0, codes).astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(
        idx, pa.array(list(values), pa.string())
    ).dictionary_decode()


def _int(v: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(v, dtype=np.int64), mask=mask, type=pa.int64())


def _float(v: np.ndarray) -> pa.Array:
    v = np.asarray(v, dtype=float)
    return pa.array(v, mask=np.isnan(v), type=pa.float64())


def _ts(days: np.ndarray, seconds: np.ndarray | int) -> pa.Array:
    us = (days.astype("datetime64[D]").astype(np.int64) * 86400 + seconds) * 1_000_000
    return pa.array(us.astype(np.int64), type=pa.timestamp("us", tz="UTC"))


@dataclass
class GameCols:
    """Per-game columns of the games in the output window."""

    gid: list[str]  # AWAY_HOME
    gid_rev: list[str]  # HOME_AWAY (drift)
    date: np.ndarray
    season: np.ndarray
    home: np.ndarray
    away: np.ndarray
    nba_id: list[str]
    flags: dict[str, np.ndarray]
    kind: np.ndarray


def _game_cols(games: Games, keep: np.ndarray) -> GameCols:
    ds = [str(d).replace("-", "") for d in games.date[keep]]
    h, a = games.home[keep], games.away[keep]
    return GameCols(
        gid=[f"{d}_{TEAMS[x]}_{TEAMS[y]}" for d, x, y in zip(ds, a, h, strict=True)],
        gid_rev=[f"{d}_{TEAMS[y]}_{TEAMS[x]}" for d, x, y in zip(ds, a, h, strict=True)],
        date=games.date[keep],
        season=games.season[keep],
        home=h,
        away=a,
        nba_id=[games.nba_id[i] for i in keep],
        flags={k: v[keep] for k, v in games.flags.items()},
        kind=games.kind[keep],
    )


def _with_dups(
    table: pa.Table, game: np.ndarray, gc: GameCols, shift_s: int = 5 * 3600
) -> pa.Table:
    """Append an older copy (processed_at - shift) of every row of a reloaded game."""
    rows = np.flatnonzero(gc.flags["dup"][game])
    if rows.size == 0:
        return table
    old = table.take(pa.array(rows))
    ts = old.column("processed_at")
    shifted = pc.subtract(ts, pa.scalar(shift_s * 1_000_000, pa.duration("us")))
    old = old.set_column(old.schema.get_field_index("processed_at"), "processed_at", shifted)
    return pa.concat_tables([table, old])


def _gamebook(gc: GameCols, s: dict, pool: Pool, extra: dict) -> tuple[pa.Table, np.ndarray]:
    g = s["g"]
    keep = (s["status"] >= 0) & ~extra["gb_missing_row"] & ~gc.flags["gamebook_missing"][g]
    rows = np.flatnonzero(keep)
    g, pid, status = g[rows], s["pid"][rows], s["status"][rows]
    team = np.where(s["side"][rows] == 1, gc.home[g], gc.away[g])
    active = status == 0
    sec = s["sec"][rows]
    minutes = np.where(active, sec, -1)
    odd = extra["odd_minutes"][rows]
    mins_vals = list(_MMSS)
    odd_codes = np.full(rows.size, -1)
    for i in np.flatnonzero(odd > 0):
        m, sc = divmod(int(sec[i]), 60)
        text = {1: f"PT{m:02d}M{sc:02d}.00S", 2: f" {m:02d}:{sc:02d} ", 3: "2:60", 4: "-"}
        odd_codes[i] = len(mins_vals)
        mins_vals.append(text[int(odd[i])])
    minutes = np.where(odd_codes >= 0, odd_codes, minutes)
    names = pool.name
    original = list(pool.name) + list(pool.last)
    orig_code = pid + np.where(extra["last_only"][rows] & (status == 2), len(pool.name), 0)
    null_stat = ~active
    cols = {
        "game_id": _str(gc.gid, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": _int(gc.season[g]),
        "home_team_abbr": _str(TEAMS, gc.home[g]),
        "away_team_abbr": _str(TEAMS, gc.away[g]),
        "team_abbr": _str(TEAMS, team, mask=extra["team_null"][rows] & ~active),
        "player_name": _str(names, pid),
        "player_name_original": _str(original, orig_code),
        "player_lookup": _str(pool.lookup, pid),
        "player_status": _str(STATUSES, status),
        "dnp_reason": _str(REASONS, s["reason"][rows]),
        "minutes": _str(mins_vals, minutes),
        "points": _int(s["points"][rows], null_stat),
        "field_goals_made": _int(s["fgm"][rows], null_stat),
        "field_goals_attempted": _int(s["fga"][rows], null_stat),
        "three_pointers_made": _int(s["tpm"][rows], null_stat),
        "three_pointers_attempted": _int(s["tpa"][rows], null_stat),
        "free_throws_made": _int(s["ftm"][rows], null_stat),
        "free_throws_attempted": _int(s["fta"][rows], null_stat),
        "offensive_rebounds": _int(s["oreb"][rows], null_stat),
        "defensive_rebounds": _int(s["dreb"][rows], null_stat),
        "total_rebounds": _int(s["oreb"][rows] + s["dreb"][rows], null_stat),
        "assists": _int(s["ast"][rows], null_stat),
        "steals": _int(s["stl"][rows], null_stat),
        "blocks": _int(s["blk"][rows], null_stat),
        "turnovers": _int(s["tov"][rows], null_stat),
        "personal_fouls": _int(s["pf"][rows], null_stat),
        "plus_minus": _int(s["pm"][rows], null_stat),
        "processed_at": _ts(gc.date[g], 86400 + 6 * 3600 + (gc.home[g] * 60)),
    }
    return pa.table(cols), g


def _bdl(gc: GameCols, s: dict, pool: Pool, extra: dict) -> tuple[pa.Table, np.ndarray]:
    rows = np.flatnonzero(extra["bdl_keep"])
    g, pid = s["g"][rows], s["pid"][rows]
    team = np.where(s["side"][rows] == 1, gc.home[g], gc.away[g])
    sec = s["sec"][rows].copy()
    pts = s["points"][rows].copy()
    wrong = extra["bdl_wrong"][rows]
    sec = np.where(wrong, sec // 2, sec)
    pts = np.where(wrong, pts // 2, pts)
    played = (s["status"][rows] == 0) & (sec > 0)
    whole = gc.flags["bdl_whole_minutes"][g]
    vals = list(_MSS) + list(_INTS) + ["00"]
    code = np.where(whole, len(_MSS) + np.rint(sec / 60).astype(np.int64), sec)
    code = np.where(played, code, len(vals) - 1)
    cols = {
        "game_id": _str(gc.gid, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": _int(gc.season[g]),
        "game_status": _str(["Final"], np.zeros(rows.size, dtype=np.int64)),
        "home_team_abbr": _str(TEAMS, gc.home[g]),
        "away_team_abbr": _str(TEAMS, gc.away[g]),
        "team_abbr": _str(TEAMS, team),
        "player_full_name": _str(pool.name, pid),
        "player_lookup": _str(pool.lookup, pid),
        "minutes": _str(vals, code),
        "points": _int(pts),
        "assists": _int(s["ast"][rows]),
        "rebounds": _int(s["oreb"][rows] + s["dreb"][rows]),
        "steals": _int(s["stl"][rows]),
        "blocks": _int(s["blk"][rows]),
        "turnovers": _int(s["tov"][rows]),
        "personal_fouls": _int(s["pf"][rows]),
        "field_goals_made": _int(s["fgm"][rows]),
        "field_goals_attempted": _int(s["fga"][rows]),
        "three_pointers_made": _int(s["tpm"][rows]),
        "three_pointers_attempted": _int(s["tpa"][rows]),
        "free_throws_made": _int(s["ftm"][rows]),
        "free_throws_attempted": _int(s["fta"][rows]),
        "processed_at": _ts(gc.date[g], 86400 + 3 * 3600 + gc.home[g] * 60),
    }
    return pa.table(cols), g


def _team_box(
    gc: GameCols, s: dict, points: np.ndarray, n_ot: np.ndarray
) -> tuple[pa.Table, np.ndarray]:
    n_games = gc.date.size
    key = s["g"] * 2 + s["side"]
    tot = {k: np.bincount(key, s[k], minlength=2 * n_games).astype(np.int64) for k in STATS}
    tot["points"] = np.bincount(key, s["points"], minlength=2 * n_games).astype(np.int64)
    assert np.array_equal(tot["points"], points.reshape(-1)), "team points drifted"
    g = np.repeat(np.arange(n_games), 2)
    side = np.tile([0, 1], n_games)
    team = np.where(side == 1, gc.home[g], gc.away[g])
    drift = gc.flags["teambox_drift"][g]
    gid = _str(gc.gid + gc.gid_rev, g + np.where(drift, n_games, 0))
    minutes = [f"{240 + 25 * k}:00" for k in range(10)]
    cols = {
        "game_id": gid,
        "game_date": pa.array(gc.date[g]),
        "season_year": _int(gc.season[g]),
        "team_abbr": _str(TEAMS, team),
        "is_home": pa.array(side == 1),
        "minutes": _str(minutes, n_ot[g]),
        "fg_made": _int(tot["fgm"]),
        "fg_attempted": _int(tot["fga"]),
        "three_pt_made": _int(tot["tpm"]),
        "three_pt_attempted": _int(tot["tpa"]),
        "ft_made": _int(tot["ftm"]),
        "ft_attempted": _int(tot["fta"]),
        "offensive_rebounds": _int(tot["oreb"]),
        "defensive_rebounds": _int(tot["dreb"]),
        "total_rebounds": _int(tot["oreb"] + tot["dreb"]),
        "assists": _int(tot["ast"]),
        "steals": _int(tot["stl"]),
        "blocks": _int(tot["blk"]),
        "turnovers": _int(tot["tov"]),
        "personal_fouls": _int(tot["pf"]),
        "points": _int(tot["points"]),
        "processed_at": _ts(gc.date[g], 86400 + 5 * 3600 + gc.home[g] * 60),
    }
    return pa.table(cols), g


def _schedule(gc: GameCols, points: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    n = gc.date.size
    in_progress = gc.flags["in_progress"]
    versions = [np.arange(n), np.flatnonzero(in_progress), np.arange(n)]
    status = np.r_[np.full(n, 1), np.full(versions[1].size, 2), np.full(n, 3)]
    g = np.concatenate(versions)
    frac = gc.flags["progress_frac"][g]
    home_s = np.where(status == 3, points[g, 1], np.rint(points[g, 1] * frac)).astype(np.int64)
    away_s = np.where(status == 3, points[g, 0], np.rint(points[g, 0] * frac)).astype(np.int64)
    announce = np.array([f"{y}-08-15" for y in gc.season[g]], dtype="datetime64[D]")
    first_day = np.where(gc.kind[g] == 0, announce, gc.date[g] - np.timedelta64(3, "D"))
    day = np.where(status == 1, first_day, gc.date[g])
    secs = np.select([status == 1, status == 2], [16 * 3600, 86400 + 3600], 86400 + 7 * 3600)
    kind = gc.kind[g]
    cols = {
        "game_id": _str(gc.nba_id, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": _int(gc.season[g]),
        "season_type": _str(KIND_NAMES, kind),
        "home_team_tricode": _str(TEAMS, gc.home[g]),
        "away_team_tricode": _str(TEAMS, gc.away[g]),
        "game_status": _int(status),
        "home_team_score": _int(home_s, status == 1),
        "away_team_score": _int(away_s, status == 1),
        "processed_at": _ts(day, secs + gc.home[g] * 60),
    }
    return pa.table(cols), g


def _pbp_player_cols(
    ev: dict, s_pid: np.ndarray, g_slot0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Player ids of player_1 / player_2 (-1 when none)."""
    p1 = np.where(ev["p1"] >= 0, s_pid[np.maximum(g_slot0[ev["atg"]] + ev["p1"], 0)], -1)
    p2 = np.where(ev["p2"] >= 0, s_pid[np.maximum(g_slot0[ev["p2tg"]] + ev["p2"], 0)], -1)
    return p1, p2


def _describe(
    etype: np.ndarray, esub: np.ndarray, made: np.ndarray
) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    for e in ETYPES:
        texts.append(e)
    base = len(texts)
    for st in SUBTYPES:
        texts += [st, f"makes {st}", f"misses {st}"]
    code = np.where(
        esub >= 0, base + 3 * np.maximum(esub, 0) + np.where(made < 0, 0, 2 - made), etype
    )
    return texts, code


def _bigdataball(gc: GameCols, ev: dict, pool: Pool, s_pid: np.ndarray,
                 g_slot0: np.ndarray) -> tuple[pa.Table, np.ndarray]:  # fmt: skip
    keep = np.flatnonzero(~gc.flags["bdb_missing"][ev["g"]])
    e = {k: v[keep] for k, v in ev.items()}
    g = e["g"]
    p1, p2 = _pbp_player_cols(e, s_pid, g_slot0)
    n_pool = len(pool.name)
    variant = n_pool * (gc.flags["bdb_strip_suffix"][g] + 2 * gc.flags["bdb_prefix"][g])
    plain = pool.lookup + pool.bdb_lookup
    lookups = plain + [f"{pool.nba_id[i % n_pool]}{k}" for i, k in enumerate(plain)]
    fallback = gc.flags["bdb_fallback"][g]
    is_shot = e["etype"] == E_SHOT
    x = np.where(fallback, np.nan, e["x"])
    y = np.where(fallback, np.nan, e["y"])
    dist = np.where(is_shot & ~fallback, np.floor(np.hypot(e["x"], e["y"]) / 10 + 0.5), np.nan)
    team = np.where(e["atg"] >= 0, np.where(e["atg"] % 2 == 1, gc.home[g], gc.away[g]), -1)
    desc_texts, desc = _describe(e["etype"], e["esub"], e["made"])
    name_desc = pc.binary_join_element_wise(
        pc.coalesce(_str(pool.name, p1), _str(TEAMS, team)),
        _str(desc_texts, desc),
        " ",
        null_handling="skip",
    )
    cols = {
        "game_id": _str(gc.gid, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": _int(gc.season[g]),
        "event_id": _str(_INTS, e["seq"]),
        "event_sequence": _int(e["seq"]),
        "period": _int(e["period"]),
        "game_clock": _str(_MMSS, e["clock"]),
        "elapsed_seconds": _int(e["elapsed"]),
        "event_type": _str(ETYPES, e["etype"]),
        "event_subtype": _str(SUBTYPES, e["esub"]),
        "event_description": name_desc,
        "player_1_name": _str(pool.name, p1),
        "player_1_lookup": _str(lookups, np.where(p1 >= 0, p1 + variant, -1)),
        "player_1_team_abbr": _str(TEAMS, team),
        "player_2_name": _str(pool.name, p2),
        "player_2_lookup": _str(lookups, np.where(p2 >= 0, p2 + variant, -1)),
        "player_2_role": _str(ROLES, np.where(p2 >= 0, e["role"], -1)),
        "shot_made": pa.array(e["made"] == 1, mask=e["made"] < 0),
        "shot_type": _str(SHOT_TYPES, e["stype"]),
        "shot_distance": _float(dist),
        "points_scored": _int(e["pts"], e["pts"] < 0),
        "original_x": _float(x),
        "original_y": _float(y),
        "converted_x": _float(np.round(25 + x / 10, 2)),
        "converted_y": _float(np.round(5.25 + y / 10, 2)),
        "data_source": _str(["bigdataball", "nbacom_fallback"], fallback.astype(np.int64)),
        "processed_at": _ts(gc.date[g], 2 * 86400 + 22 * 3600 + gc.home[g] * 60),
    }
    return pa.table(cols), g


def _nba_rows(e: dict) -> dict[str, np.ndarray]:
    """NBA.com action rows: BigDataBall events, plus block and steal actions, subs split."""
    n = e["g"].size
    blk = np.flatnonzero((e["etype"] == E_SHOT) & (e["role"] == R_BLK))
    stl = np.flatnonzero((e["etype"] == E_TOV) & (e["role"] == R_STL))
    sub = np.flatnonzero(e["etype"] == E_SUB)
    src = np.r_[np.arange(n), blk, stl, sub]
    extra = np.r_[np.zeros(n, int), np.ones(blk.size, int), np.full(stl.size, 2),
                  np.full(sub.size, 3)]  # fmt: skip
    order = np.lexsort((extra, src))
    return {"src": src[order], "extra": extra[order]}


NBA_SUB_TEXT = {
    "layup": "Layup", "driving layup": "Layup", "cutting layup": "Layup",
    "tip layup shot": "Layup", "dunk": "Dunk", "alley oop dunk": "Dunk", "hook shot": "Hook",
    "turnaround hook shot": "Hook",
}  # fmt: skip


def _nba_subtypes() -> list[str]:
    out = []
    for st in SUBTYPES:
        if st in NBA_SUB_TEXT:
            out.append(NBA_SUB_TEXT[st])
        elif st.startswith("free throw"):
            a, b = st.split()[-1].split("/")
            out.append(f"Free Throw {a} of {b}")
        elif "jump shot" in st or "fadeaway" in st:
            out.append("Jump Shot")
        else:
            out.append(st)
    return out


def _nbacom(gc: GameCols, ev: dict, pool: Pool, s_pid: np.ndarray,
            g_slot0: np.ndarray) -> tuple[pa.Table, np.ndarray]:  # fmt: skip
    f = gc.flags
    want = (f["bdb_missing"] & ~f["pbp_missing"]) | f["bdb_fallback"] | f["nbac_extra"]
    keep = np.flatnonzero(want[ev["g"]])
    e = {k: v[keep] for k, v in ev.items()}
    rows = _nba_rows(e)
    src, extra = rows["src"], rows["extra"]
    e = {k: v[src] for k, v in e.items()}
    g = e["g"]
    p1, p2 = _pbp_player_cols(e, s_pid, g_slot0)
    is_shot = (e["etype"] == E_SHOT) & (extra == 0)
    assister = np.where(is_shot & (e["role"] == R_AST), p2, -1)
    blocker = np.where(is_shot & (e["role"] == R_BLK), p2, -1)
    # block / steal / sub-in rows: the second player becomes the actor
    swap = extra > 0
    actor = np.where(swap, p2, p1)
    actor_tg = np.where(swap, e["p2tg"], e["atg"])
    team = np.where(actor_tg >= 0, np.where(actor_tg % 2 == 1, gc.home[g], gc.away[g]), -1)
    et_map = np.array([0, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10])  # bdb etype -> NBA_ETYPES index
    etype = et_map[e["etype"]]
    etype = np.where(is_shot & (e["stype"] == 1), 1, etype)
    etype = np.where(extra == 1, 11, np.where(extra == 2, 12, etype))
    nba_sub = _nba_subtypes() + ["start", "end", "out", "in"]
    base = len(SUBTYPES)
    esub = np.where(swap, -1, e["esub"])
    esub = np.where(e["etype"] == E_START, base, np.where(e["etype"] == E_END, base + 1, esub))
    esub = np.where(e["etype"] == E_SUB, np.where(extra == 3, base + 3, base + 2), esub)
    seq = _segment_rank(g) + 1
    action = seq * 2 + (seq % 3 == 0)  # actionNumber has gaps
    made = np.where(swap, -1, e["made"])
    sx = np.where(is_shot, np.round(25 + e["x"] / 10, 2), np.nan)
    sy = np.where(is_shot, np.round(5.25 + e["y"] / 10, 2), np.nan)
    dist = np.where(is_shot, np.round(np.hypot(e["x"], e["y"]) / 10, 1), np.nan)
    desc_texts, desc = _describe(e["etype"], np.where(esub >= base, -1, esub), made)
    desc_texts = [*desc_texts, "block", "steal", "substitution in"]
    n_texts = len(desc_texts)
    desc = np.select(
        [extra == 1, extra == 2, extra == 3], [n_texts - 3, n_texts - 2, n_texts - 1], desc
    )
    cols = {
        "game_id": _str(gc.gid, g),
        "nba_game_id": _str(gc.nba_id, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": _int(gc.season[g]),
        "event_id": _str(_INTS, action),
        "event_sequence": _int(seq),
        "period": _int(e["period"]),
        "game_clock": _str([f"PT{s // 60:02d}M{s % 60:02d}.00S" for s in range(721)], e["clock"]),
        "event_type": _str(NBA_ETYPES, etype),
        "event_action_type": _str(nba_sub, esub),
        "event_description": pc.binary_join_element_wise(
            pc.coalesce(_str(pool.name, actor), _str(TEAMS, team)),
            _str(desc_texts, desc),
            " ",
            null_handling="skip",
        ),
        "player_1_lookup": _str(pool.lookup, actor),
        "player_1_team_abbr": _str(TEAMS, team),
        "player_2_lookup": _str(pool.lookup, assister),
        "player_3_lookup": _str(pool.lookup, blocker),
        "shot_made": pa.array(made == 1, mask=made < 0),
        "shot_type": _str(SHOT_TYPES, np.where(swap, -1, e["stype"])),
        "shot_x": _float(sx),
        "shot_y": _float(sy),
        "shot_distance": _float(dist),
        "processed_at": _ts(gc.date[g], 86400 + 4 * 3600 + gc.home[g] * 60),
    }
    return pa.table(cols), g


# --------------------------------------------------------------------------- orchestration


def _row_messiness(rng: np.random.Generator, slot: dict, g_n: int) -> dict[str, np.ndarray]:
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


def generate(seed: int, start: dt.date, end: dt.date, out: Path, clean: bool = False,
             log=print) -> dict[str, int]:  # fmt: skip
    """Generate the six raw tables for [start, end]; returns rows written per table."""
    t0 = time.perf_counter()
    pool = build_pool(seed)
    games = build_games(seed, start, end, clean)
    if len(games) == 0:
        log("no games in the window (July-September has none); writing empty tables")
    last_season = int(games.season.max()) if len(games) else FIRST_SEASON
    rosters = season_rosters(seed, pool, max(last_season, FIRST_SEASON))
    week = _week_key(games.date)
    sims: list[tuple[np.ndarray, Sim, dict[str, np.ndarray]]] = []
    for key in np.unique(np.stack([games.season, week], axis=1), axis=0):
        idx = np.flatnonzero((games.season == key[0]) & (week == key[1]))
        rng = _rng(seed, S_WEEK, key[0], key[1])
        sim = simulate_week(rng, games, idx, pool, rosters)
        extra = _row_messiness(rng, sim.slot, idx.size)
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
    gc = _game_cols(games, keep)
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
                yield _with_dups(*_bigdataball(gc, part, pool, s_pid, g_slot0), gc)

        builders = {
            "nbac_gamebook_player_stats": lambda: iter(
                [_with_dups(*_gamebook(gc, s, pool, x), gc)]
            ),
            "bdl_player_boxscores": lambda: iter([_with_dups(*_bdl(gc, s, pool, x), gc)]),
            "bigdataball_play_by_play": bdb_batches,
            "nbac_play_by_play": lambda: iter(
                [_with_dups(*_nbacom(gc, ev, pool, s_pid, g_slot0), gc)]
            ),
            "nbac_team_boxscore": lambda: iter([_with_dups(*_team_box(gc, s, points, n_ot), gc)]),
            "nbac_schedule": lambda: iter([_schedule(gc, points)[0]]),
        }
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, spec in load_contract("raw_tables")["tables"].items():
        schema = pa.schema([(c, ARROW_TYPES[t]) for c, t in spec["columns"].items()])
        batches = builders[name]() if name in builders else iter([schema.empty_table()])
        counts[name] = _write_atomic(schema, batches, out / f"{name}.parquet")
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


def _write_atomic(schema: pa.Schema, batches: Iterator[pa.Table], path: Path) -> int:
    """Write batches to a temporary file, then rename: a crash never leaves a half file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    rows = 0
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for batch in batches:
                table = batch.select(schema.names).cast(schema)
                writer.write_table(table, row_group_size=256_000)
                rows += table.num_rows
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return rows


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start-date", required=True, help="first game date, YYYY-MM-DD")
    parser.add_argument("--end-date", required=True, help="last game date, YYYY-MM-DD")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--clean", action="store_true", help="no injected messiness")


def run(args: argparse.Namespace) -> int:
    start, end = parse_window(args.start_date, args.end_date)
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    first = start.year if start.month >= 10 else start.year - 1
    last = end.year if end.month >= 10 else end.year - 1
    if first < FIRST_SEASON or last > LAST_SEASON:
        raise UsageError(f"seasons {FIRST_SEASON}-{LAST_SEASON} only; got {first}-{last}")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a directory")
    counts = generate(args.seed, start, end, args.out, clean=args.clean)
    for name, n in counts.items():
        print(f"{name:32s} {n:>10,d} rows")
    return 0
