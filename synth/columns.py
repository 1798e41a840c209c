"""Arrow columns from coded numpy arrays, and the per-game columns of the window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from synth.constants import TEAMS

if TYPE_CHECKING:
    from synth.schedule import Games

MMSS = np.array([f"{s // 60:02d}:{s % 60:02d}" for s in range(8000)])
MSS = np.array([f"{s // 60}:{s % 60:02d}" for s in range(8000)])
INTS = np.array([str(i) for i in range(10000)])


def str_col(
    values: np.ndarray | Sequence[str], codes: np.ndarray, mask: np.ndarray | None = None
) -> pa.Array:
    """Strings by code into `values` (NULL where mask or code < 0)."""
    codes = np.asarray(codes)
    null = codes < 0 if mask is None else (mask | (codes < 0))
    idx = pa.array(np.where(null, 0, codes).astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(
        idx, pa.array(list(values), pa.string())
    ).dictionary_decode()


def int_col(v: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(v, dtype=np.int64), mask=mask, type=pa.int64())


def float_col(v: np.ndarray) -> pa.Array:
    v = np.asarray(v, dtype=float)
    return pa.array(v, mask=np.isnan(v), type=pa.float64())


def ts_col(days: np.ndarray, seconds: np.ndarray | int) -> pa.Array:
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


def game_cols(games: Games, keep: np.ndarray) -> GameCols:
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
