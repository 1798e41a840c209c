"""The two play-by-play sources: BigDataBall and NBA.com, from the same event stream."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth.columns import INTS, MMSS, GameCols, float_col, int_col, str_col, ts_col
from synth.constants import (
    E_END,
    E_SHOT,
    E_START,
    E_SUB,
    E_TOV,
    ETYPES,
    ID_NBAC_PBP,
    NBA_ETYPES,
    R_AST,
    R_BLK,
    R_STL,
    ROLES,
    SHOT_TYPES,
    SUBTYPES,
    TEAMS,
)
from synth.draws import Arrays, segment_rank
from synth.players import Pool


def _pbp_player_cols(
    ev: Arrays, s_pid: np.ndarray, g_slot0: np.ndarray
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


def bigdataball_table(gc: GameCols, ev: Arrays, pool: Pool, s_pid: np.ndarray,
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
        pc.coalesce(str_col(pool.name, p1), str_col(TEAMS, team)),
        str_col(desc_texts, desc),
        " ",
        null_handling="skip",
    )
    cols = {
        "game_id": str_col(gc.gid, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": int_col(gc.season[g]),
        "event_id": str_col(INTS, e["seq"]),
        "event_sequence": int_col(e["seq"]),
        "period": int_col(e["period"]),
        "game_clock": str_col(MMSS, e["clock"]),
        "elapsed_seconds": int_col(e["elapsed"]),
        "event_type": str_col(ETYPES, e["etype"]),
        "event_subtype": str_col(SUBTYPES, e["esub"]),
        "event_description": name_desc,
        "player_1_name": str_col(pool.name, p1),
        "player_1_lookup": str_col(lookups, np.where(p1 >= 0, p1 + variant, -1)),
        "player_1_team_abbr": str_col(TEAMS, team),
        "player_2_name": str_col(pool.name, p2),
        "player_2_lookup": str_col(lookups, np.where(p2 >= 0, p2 + variant, -1)),
        "player_2_role": str_col(ROLES, np.where(p2 >= 0, e["role"], -1)),
        "shot_made": pa.array(e["made"] == 1, mask=e["made"] < 0),
        "shot_type": str_col(SHOT_TYPES, e["stype"]),
        "shot_distance": float_col(dist),
        "points_scored": int_col(e["pts"], e["pts"] < 0),
        "original_x": float_col(x),
        "original_y": float_col(y),
        "converted_x": float_col(np.round(25 + x / 10, 2)),
        "converted_y": float_col(np.round(5.25 + y / 10, 2)),
        "data_source": str_col(["bigdataball", "nbacom_fallback"], fallback.astype(np.int64)),
        "processed_at": ts_col(gc.date[g], 2 * 86400 + 22 * 3600 + gc.home[g] * 60),
    }
    return pa.table(cols), g


def _nba_rows(e: Arrays) -> dict[str, np.ndarray]:
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


def nbacom_table(
    gc: GameCols, ev: Arrays, pool: Pool, s_pid: np.ndarray, g_slot0: np.ndarray, drift: np.ndarray
) -> tuple[pa.Table, np.ndarray]:
    """NBA.com play-by-play of the games that have it; `drift` (per slot row, ID_*) marks the
    player-games NBA.com writes with the player's alternative identity."""
    names, lookups, s_code = pool.identity(s_pid, drift == ID_NBAC_PBP)
    f = gc.flags
    want = (f["bdb_missing"] & ~f["pbp_missing"]) | f["bdb_fallback"] | f["nbac_extra"]
    keep = np.flatnonzero(want[ev["g"]])
    e = {k: v[keep] for k, v in ev.items()}
    rows = _nba_rows(e)
    src, extra = rows["src"], rows["extra"]
    e = {k: v[src] for k, v in e.items()}
    g = e["g"]
    p1, p2 = _pbp_player_cols(e, s_code, g_slot0)  # codes into names / lookups
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
    seq = segment_rank(g) + 1
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
        "game_id": str_col(gc.gid, g),
        "nba_game_id": str_col(gc.nba_id, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": int_col(gc.season[g]),
        "event_id": str_col(INTS, action),
        "event_sequence": int_col(seq),
        "period": int_col(e["period"]),
        "game_clock": str_col(
            [f"PT{s // 60:02d}M{s % 60:02d}.00S" for s in range(721)], e["clock"]
        ),
        "event_type": str_col(NBA_ETYPES, etype),
        "event_action_type": str_col(nba_sub, esub),
        "event_description": pc.binary_join_element_wise(
            pc.coalesce(str_col(names, actor), str_col(TEAMS, team)),
            str_col(desc_texts, desc),
            " ",
            null_handling="skip",
        ),
        "player_1_lookup": str_col(lookups, actor),
        "player_1_team_abbr": str_col(TEAMS, team),
        "player_2_lookup": str_col(lookups, assister),
        "player_3_lookup": str_col(lookups, blocker),
        "shot_made": pa.array(made == 1, mask=made < 0),
        "shot_type": str_col(SHOT_TYPES, np.where(swap, -1, e["stype"])),
        "shot_x": float_col(sx),
        "shot_y": float_col(sy),
        "shot_distance": float_col(dist),
        "processed_at": ts_col(gc.date[g], 86400 + 4 * 3600 + gc.home[g] * 60),
    }
    return pa.table(cols), g
