"""The box-score tables: gamebook, BDL, team box score, and the schedule."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synth.columns import INTS, MMSS, MSS, GameCols, int_col, str_col, ts_col
from synth.constants import ID_BDL, ID_GAMEBOOK, REASONS, STATS, STATUSES, TEAMS
from synth.draws import Arrays
from synth.players import Pool
from synth.schedule import KIND_NAMES


def gamebook_table(
    gc: GameCols, s: Arrays, pool: Pool, extra: Arrays
) -> tuple[pa.Table, np.ndarray]:
    g = s["g"]
    keep = (s["status"] >= 0) & ~extra["gb_missing_row"] & ~gc.flags["gamebook_missing"][g]
    rows = np.flatnonzero(keep)
    g, pid, status = g[rows], s["pid"][rows], s["status"][rows]
    team = np.where(s["side"][rows] == 1, gc.home[g], gc.away[g])
    active = status == 0
    sec = s["sec"][rows]
    minutes = np.where(active, sec, -1)
    # odd shapes (1-2 parseable, 3-4 not) and the rounding carry (31:00 printed 30:60)
    odd = np.where(extra["minutes_carry"][rows], 5, extra["odd_minutes"][rows])
    mins_vals = list(MMSS)
    odd_codes = np.full(rows.size, -1)
    for i in np.flatnonzero(odd > 0):
        m, sc = divmod(int(sec[i]), 60)
        text = {1: f"PT{m:02d}M{sc:02d}.00S", 2: f" {m:02d}:{sc:02d} ", 3: f"{m:02d}:{sc:02d}:10",
                4: "-", 5: f"{m - 1:02d}:60"}  # fmt: skip
        odd_codes[i] = len(mins_vals)
        mins_vals.append(text[int(odd[i])])
    minutes = np.where(odd_codes >= 0, odd_codes, minutes)
    names, lookups, id_code = pool.identity(pid, extra["id_drift"][rows] == ID_GAMEBOOK)
    original = names + pool.last
    orig_code = np.where(extra["last_only"][rows] & (status == 2), len(names) + pid, id_code)
    null_stat = ~active
    cols = {
        "game_id": str_col(gc.gid, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": int_col(gc.season[g]),
        "home_team_abbr": str_col(TEAMS, gc.home[g]),
        "away_team_abbr": str_col(TEAMS, gc.away[g]),
        "team_abbr": str_col(TEAMS, team, mask=extra["team_null"][rows] & ~active),
        "player_name": str_col(names, id_code),
        "player_name_original": str_col(original, orig_code),
        "player_lookup": str_col(lookups, id_code),
        "player_status": str_col(STATUSES, status),
        "dnp_reason": str_col(REASONS, s["reason"][rows]),
        "minutes": str_col(mins_vals, minutes),
        "points": int_col(s["points"][rows], null_stat),
        "field_goals_made": int_col(s["fgm"][rows], null_stat),
        "field_goals_attempted": int_col(s["fga"][rows], null_stat),
        "three_pointers_made": int_col(s["tpm"][rows], null_stat),
        "three_pointers_attempted": int_col(s["tpa"][rows], null_stat),
        "free_throws_made": int_col(s["ftm"][rows], null_stat),
        "free_throws_attempted": int_col(s["fta"][rows], null_stat),
        "offensive_rebounds": int_col(s["oreb"][rows], null_stat),
        "defensive_rebounds": int_col(s["dreb"][rows], null_stat),
        "total_rebounds": int_col(s["oreb"][rows] + s["dreb"][rows], null_stat),
        "assists": int_col(s["ast"][rows], null_stat),
        "steals": int_col(s["stl"][rows], null_stat),
        "blocks": int_col(s["blk"][rows], null_stat),
        "turnovers": int_col(s["tov"][rows], null_stat),
        "personal_fouls": int_col(s["pf"][rows], null_stat),
        "plus_minus": int_col(s["pm"][rows], null_stat),
        "processed_at": ts_col(gc.date[g], 86400 + 6 * 3600 + (gc.home[g] * 60)),
    }
    return pa.table(cols), g


def bdl_table(gc: GameCols, s: Arrays, pool: Pool, extra: Arrays) -> tuple[pa.Table, np.ndarray]:
    rows = np.flatnonzero(extra["bdl_keep"])
    g, pid = s["g"][rows], s["pid"][rows]
    names, lookups, id_code = pool.identity(pid, extra["id_drift"][rows] == ID_BDL)
    team = np.where(s["side"][rows] == 1, gc.home[g], gc.away[g])
    sec = s["sec"][rows].copy()
    pts = s["points"][rows].copy()
    wrong = extra["bdl_wrong"][rows]
    sec = np.where(wrong, sec // 2, sec)
    pts = np.where(wrong, pts // 2, pts)
    played = (s["status"][rows] == 0) & (sec > 0)
    whole = gc.flags["bdl_whole_minutes"][g]
    vals = list(MSS) + list(INTS) + ["00"]
    code = np.where(whole, len(MSS) + np.rint(sec / 60).astype(np.int64), sec)
    code = np.where(played, code, len(vals) - 1)
    cols = {
        "game_id": str_col(gc.gid, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": int_col(gc.season[g]),
        "game_status": str_col(["Final"], np.zeros(rows.size, dtype=np.int64)),
        "home_team_abbr": str_col(TEAMS, gc.home[g]),
        "away_team_abbr": str_col(TEAMS, gc.away[g]),
        "team_abbr": str_col(TEAMS, team),
        "player_full_name": str_col(names, id_code),
        "player_lookup": str_col(lookups, id_code),
        "minutes": str_col(vals, code),
        "points": int_col(pts),
        "assists": int_col(s["ast"][rows]),
        "rebounds": int_col(s["oreb"][rows] + s["dreb"][rows]),
        "steals": int_col(s["stl"][rows]),
        "blocks": int_col(s["blk"][rows]),
        "turnovers": int_col(s["tov"][rows]),
        "personal_fouls": int_col(s["pf"][rows]),
        "field_goals_made": int_col(s["fgm"][rows]),
        "field_goals_attempted": int_col(s["fga"][rows]),
        "three_pointers_made": int_col(s["tpm"][rows]),
        "three_pointers_attempted": int_col(s["tpa"][rows]),
        "free_throws_made": int_col(s["ftm"][rows]),
        "free_throws_attempted": int_col(s["fta"][rows]),
        "processed_at": ts_col(gc.date[g], 86400 + 3 * 3600 + gc.home[g] * 60),
    }
    return pa.table(cols), g


def team_box_table(
    gc: GameCols, s: Arrays, points: np.ndarray, n_ot: np.ndarray
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
    gid = str_col(gc.gid + gc.gid_rev, g + np.where(drift, n_games, 0))
    minutes = [f"{240 + 25 * k}:00" for k in range(10)]
    cols = {
        "game_id": gid,
        "game_date": pa.array(gc.date[g]),
        "season_year": int_col(gc.season[g]),
        "team_abbr": str_col(TEAMS, team),
        "is_home": pa.array(side == 1),
        "minutes": str_col(minutes, n_ot[g]),
        "fg_made": int_col(tot["fgm"]),
        "fg_attempted": int_col(tot["fga"]),
        "three_pt_made": int_col(tot["tpm"]),
        "three_pt_attempted": int_col(tot["tpa"]),
        "ft_made": int_col(tot["ftm"]),
        "ft_attempted": int_col(tot["fta"]),
        "offensive_rebounds": int_col(tot["oreb"]),
        "defensive_rebounds": int_col(tot["dreb"]),
        "total_rebounds": int_col(tot["oreb"] + tot["dreb"]),
        "assists": int_col(tot["ast"]),
        "steals": int_col(tot["stl"]),
        "blocks": int_col(tot["blk"]),
        "turnovers": int_col(tot["tov"]),
        "personal_fouls": int_col(tot["pf"]),
        "points": int_col(tot["points"]),
        "processed_at": ts_col(gc.date[g], 86400 + 5 * 3600 + gc.home[g] * 60),
    }
    return pa.table(cols), g


def schedule_table(gc: GameCols, points: np.ndarray) -> tuple[pa.Table, np.ndarray]:
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
        "game_id": str_col(gc.nba_id, g),
        "game_date": pa.array(gc.date[g]),
        "season_year": int_col(gc.season[g]),
        "season_type": str_col(KIND_NAMES, kind),
        "home_team_tricode": str_col(TEAMS, gc.home[g]),
        "away_team_tricode": str_col(TEAMS, gc.away[g]),
        "game_status": int_col(status),
        "home_team_score": int_col(home_s, status == 1),
        "away_team_score": int_col(away_s, status == 1),
        "processed_at": ts_col(day, secs + gc.home[g] * 60),
    }
    return pa.table(cols), g
