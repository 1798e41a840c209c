"""Seeded random streams and the vectorised draws the other modules share."""

from __future__ import annotations

import numpy as np

# named columns of equal length (rows of a week, events, ...)
Arrays = dict[str, np.ndarray]


def seeded_rng(*words: int) -> np.random.Generator:
    return np.random.default_rng([int(w) for w in words])


def choice_codes(
    rng: np.random.Generator, options: tuple[tuple[str, float], ...], codes: dict[str, int], n: int
) -> np.ndarray:
    p = np.array([w for _, w in options], dtype=float)
    return rng.choice(np.array([codes[name] for name, _ in options]), size=n, p=p / p.sum())


def pick(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row index, draw a column of `weights[row]` with probability proportional to it."""
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    c = np.cumsum(weights[rows], axis=1)
    u = rng.random(rows.size) * c[:, -1]
    return np.asarray(np.minimum((c <= u[:, None]).sum(axis=1), weights.shape[1] - 1))


def pick_excluding(
    rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray, exclude: np.ndarray
) -> np.ndarray:
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    w = weights[rows].copy()
    w[np.arange(rows.size), exclude] = 0.0
    c = np.cumsum(w, axis=1)
    u = rng.random(rows.size) * c[:, -1]
    return np.asarray(np.minimum((c <= u[:, None]).sum(axis=1), weights.shape[1] - 1))


def segment_rank(keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal (sorted) keys."""
    n = keys.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
    lens = np.diff(np.r_[starts, n])
    return np.asarray(np.arange(n) - np.repeat(starts, lens))
