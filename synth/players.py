"""The player pool (names, lookups, traits) and the season rosters."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from synth.constants import (
    FIRST_NAMES,
    FIRST_SEASON,
    LAST_NAMES,
    N_TEAMS,
    POOL_SIZE,
    ROSTER,
    S_POOL,
    S_ROSTER,
    SUFFIXES,
)
from synth.draws import seeded_rng


def player_lookup(name: str) -> str:
    """domain.md §2: NFKC, strip diacritics, casefold, keep [a-z0-9]."""
    s = unicodedata.normalize("NFKC", name)
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", s.casefold())


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
    # the player as a drifting source writes him (messiness.identity_variants)
    alt_name: list[str]
    alt_lookup: list[str]

    def identity(
        self, pid: np.ndarray, drifted: np.ndarray
    ) -> tuple[list[str], list[str], np.ndarray]:
        """(names, lookups, codes into both) of players `pid` (-1: none), drifted or not."""
        code = np.where(pid >= 0, pid + len(self.name) * drifted, -1)
        return self.name + self.alt_name, self.lookup + self.alt_lookup, code


def build_pool(seed: int) -> Pool:
    rng = seeded_rng(seed, S_POOL)
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
        alt_name=names,
        alt_lookup=lookups,
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
        rng = seeded_rng(seed, S_ROSTER, year)
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
