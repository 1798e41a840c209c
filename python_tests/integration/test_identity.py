"""Issue 12, point 1, end to end: suffix drift between the two box scores never doubles a player.

January 2022 is built from generated data; then one active player's gamebook rows for one game
are renamed to carry a suffix (player_lookup + 'jr', player_name + ' Jr.') while BDL and the
play-by-play keep the plain lookup, and the window is rebuilt. The player must stay one row:
the gamebook's box score, the play-by-play's zones, identity_match 'suffix', and his team's
points unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from conftest import RAW_MONTH, copy_db, duckdb_env, parse_cache

from driver.dbt.invoke import run_dbt

MART = "nba_analytics.player_game_summary"
BOX_COLUMNS = [
    "team_abbr", "minutes_played", "points", "assists", "total_rebounds", "fg_attempts",
    "fg_makes", "three_pt_attempts", "three_pt_makes", "ft_attempts", "ft_makes", "plus_minus",
]  # fmt: skip
ZONE_COLUMNS = [
    "paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes",
    "three_attempts_pbp", "three_makes_pbp", "assisted_fg_makes", "unassisted_fg_makes",
    "has_complete_shot_zones", "shot_zone_source",
]  # fmt: skip
SUFFIXES = ("jr", "sr", "ii", "iii", "iv")


def _build(db: Path, run_dir: Path) -> None:
    start, end, _ = RAW_MONTH
    result = run_dbt(
        ["build", "--select", "+player_game_summary", "--exclude-resource-type", "unit_test"],
        target="dev",
        run_dir=run_dir,
        window=(start, end),
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )
    assert result.ok, result.output[-4000:]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, Any]:
    rows = con.execute(sql, params).fetchall()
    assert len(rows) == 1, (sql, params, rows)
    names = [d[0] for d in con.description or []]
    return dict(zip(names, rows[0], strict=True))


def _pick_player(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """An active gamebook player with shots in play-by-play, a BDL line under the same plain
    lookup, a raw gamebook lookup already in normal form, and no suffix in his name."""
    suffix_pattern = "(" + "|".join(SUFFIXES) + ")$"
    return _one(
        con,
        f"""
        select pgs.game_id, pgs.game_date, pgs.player_lookup, pgs.team_abbr
        from {MART} as pgs
        where pgs.primary_source_used = 'nbac_gamebook'
            and pgs.identity_match = 'exact'
            and pgs.is_active and pgs.fg_attempts >= 5 and pgs.has_complete_shot_zones
            and not regexp_matches(pgs.player_lookup, ?)
            and exists (
                select 1 from nba_raw.bdl_player_boxscores as bdl
                where bdl.game_date = pgs.game_date and bdl.player_lookup = pgs.player_lookup
            )
            and exists (
                select 1 from nba_raw.nbac_gamebook_player_stats as gb
                where gb.game_date = pgs.game_date and gb.player_lookup = pgs.player_lookup
            )
        order by pgs.game_date, pgs.game_id, pgs.player_lookup
        limit 1
        """,
        [suffix_pattern],
    )


def test_gamebook_suffix_drift_keeps_one_row_with_box_score_and_zones(
    month_built_db: Path, tmp_path: Path
) -> None:
    db = copy_db(month_built_db, tmp_path / "nba.duckdb")  # built as _build builds
    columns = ", ".join(["player_full_name", *BOX_COLUMNS, *ZONE_COLUMNS])
    row_sql = f"select {columns} from {MART} where game_id = ? and player_lookup = ?"
    team_sql = f"select sum(points) as points from {MART} where game_id = ? and team_abbr = ?"
    count_sql = f"select count(*) as n from {MART}"
    with duckdb.connect(str(db)) as con:
        player = _pick_player(con)
        game_id, lookup, team = player["game_id"], player["player_lookup"], player["team_abbr"]
        before = _one(con, row_sql, [game_id, lookup])
        team_points = _one(con, team_sql, [game_id, team])["points"]
        rows_before = _one(con, count_sql, [])["n"]
        renamed = con.execute(
            "update nba_raw.nbac_gamebook_player_stats "
            "set player_lookup = player_lookup || 'jr', player_name = player_name || ' Jr.' "
            "where game_date = ? and player_lookup = ? returning player_lookup",
            [player["game_date"], lookup],
        ).fetchall()
        assert renamed, f"no gamebook row of {lookup} on {player['game_date']}"
        bdl_plain = con.execute(
            "select count(*) from nba_raw.bdl_player_boxscores "
            "where game_date = ? and player_lookup = ?",
            [player["game_date"], lookup],
        ).fetchone()
        assert bdl_plain is not None and bdl_plain[0] >= 1, "BDL keeps the plain lookup"

    _build(db, tmp_path / "run_after")

    with duckdb.connect(str(db), read_only=True) as con:
        base_rows = con.execute(
            f"select player_lookup, primary_source_used, identity_match from {MART} "
            "where game_id = ? and player_lookup in (?, ?)",
            [game_id, lookup, lookup + "jr"],
        ).fetchall()
        assert base_rows == [(lookup + "jr", "nbac_gamebook", "suffix")], base_rows
        after = _one(con, row_sql, [game_id, lookup + "jr"])
        assert after["player_full_name"] == f"{before['player_full_name']} Jr."
        for column in BOX_COLUMNS + ZONE_COLUMNS:
            assert after[column] == before[column], (column, before[column], after[column])
        assert _one(con, team_sql, [game_id, team])["points"] == team_points
        assert _one(con, count_sql, [])["n"] == rows_before
