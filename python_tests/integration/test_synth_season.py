"""The synthetic generator over a whole season (2021-22 with play-in and playoffs, seed 7):
the schedule's shape, every injected fault present, identity drift and box-score corrections
as docs/synthetic_data.md describes them. No dbt; slower than the unit tests (one season)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from synth_sql import UNMATCHED_PBP_ACTORS, connect, one


@pytest.fixture(scope="module")
def season(raw_season_dir: Path) -> duckdb.DuckDBPyConnection:
    return connect(raw_season_dir)


# --------------------------------------------------------------------------- schedule


def test_season_schedule_shape(season: duckdb.DuckDBPyConnection) -> None:
    reg = season.execute(
        "select count(*), count(distinct game_date), min(game_date), max(game_date) "
        "from nbac_schedule where game_status = 3 and season_type = 'Regular Season'"
    ).fetchone()
    assert reg is not None
    n, dates, first, last = reg
    assert n == 1230 and 160 <= dates <= 168
    assert first.month == 10 and 18 <= first.day <= 25 and first.weekday() == 1
    assert last.month == 4 and 8 <= last.day <= 15
    per_team = season.execute(
        "select t, count(*) from (select home_team_tricode t from nbac_schedule where "
        "game_status = 3 and season_type = 'Regular Season' union all select away_team_tricode "
        "from nbac_schedule where game_status = 3 and season_type = 'Regular Season') group by 1"
    ).fetchall()
    assert len(per_team) == 30 and {c for _, c in per_team} == {82}
    twice = one(
        season,
        "select count(*) from (select game_date, t from (select game_date, home_team_tricode t "
        "from nbac_schedule where game_status = 3 union all select game_date, away_team_tricode "
        "from nbac_schedule where game_status = 3) group by all having count(*) > 1)",
    )[0]
    assert twice == 0
    kinds = dict(
        season.execute(
            "select season_type, count(*) from nbac_schedule where game_status = 3 group by 1"
        ).fetchall()
    )
    assert kinds["PlayIn"] == 6 and 60 <= kinds["Playoffs"] <= 105
    gap, last_game = one(
        season,
        "select max(d), max(game_date) from (select game_date, game_date - lag(game_date) over "
        "(order by game_date) d from (select distinct game_date from nbac_schedule))",
    )
    assert gap <= 10 and last_game.month == 6
    ids = one(
        season,
        "select count(*) filter (where not regexp_full_match(game_id, '00[245]21\\d{5}')), "
        "count(*) filter (where game_status = 1 and home_team_score is not null) "
        "from nbac_schedule_raw",
    )
    assert ids == (0, 0)


def test_lookups_unique_per_day(season: duckdb.DuckDBPyConnection) -> None:
    dupes = one(
        season,
        "select count(*) from (select game_date, player_lookup from gamebook group by all "
        "having count(*) > 1)",
    )[0]
    assert dupes == 0


# --------------------------------------------------------------------------- messiness


def test_messiness_is_present_by_default(season: duckdb.DuckDBPyConnection) -> None:
    checks = {
        "duplicate gamebook rows": "select count(*) from nbac_gamebook_player_stats_raw "
        "group by game_id, player_lookup having count(*) > 1 limit 1",
        "prefixed BigDataBall lookups": "select count(*) from bdb "
        "where regexp_matches(player_1_lookup, '^[0-9]{7}[a-z]')",
        "suffix-stripped BigDataBall lookups": "select count(*) from bdb_fixed f "
        "where regexp_matches(player_1_lookup, '(jr|sr|ii|iii|iv)$') and player_1_lookup "
        "not in (select player_1_lookup from bdb where player_1_lookup is not null)",
        "HOME_AWAY team box ids": "select count(*) from nbac_team_boxscore t join "
        "nbac_schedule s on s.game_date = t.game_date and t.team_abbr = s.home_team_tricode "
        "where t.game_id = strftime(t.game_date, '%Y%m%d') || '_' || s.home_team_tricode "
        "|| '_' || s.away_team_tricode",
        "nbacom_fallback games": "select count(*) from bdb where data_source = "
        "'nbacom_fallback' and shot_distance is null and event_type = 'shot'",
        "odd gamebook minutes": "select count(*) from gamebook where player_status = 'active' "
        "and not regexp_full_match(minutes, '\\d\\d:\\d\\d')",
        "games without gamebook": "select count(*) from (select game_id from "
        "bdl_player_boxscores except select game_id from gamebook)",
        "games without BigDataBall but with NBA.com": "select count(*) from (select game_id "
        "from nbac_play_by_play except select game_id from bdb)",
        "games without any play-by-play": "select count(*) from (select game_id from "
        "bdl_player_boxscores except select game_id from bdb except select game_id from "
        "nbac_play_by_play)",
        "NULL team_abbr on dnp/inactive": "select count(*) from gamebook where team_abbr is null",
        "last-name-only inactive rows": "select count(*) from gamebook where player_status = "
        "'inactive' and player_name_original <> player_name",
        "BDL disagreeing with the gamebook": "select count(*) from bdl_player_boxscores b join "
        "gamebook g using (game_id, player_lookup) where b.points <> g.points",
        "in-progress schedule versions": "select count(*) from nbac_schedule_raw "
        "where game_status = 2",
        "minutes with a rounding carry (MM:60)": "select count(*) from gamebook "
        "where minutes like '%:60'",
        "box-score corrections": "select count(*) from nbac_gamebook_player_stats_raw "
        "group by game_id, player_lookup having max(processed_at) - min(processed_at) "
        "> interval 1 day limit 1",
        "lookups with diacritics or punctuation": "select count(*) from bdl_player_boxscores "
        "where player_lookup <> norm(player_lookup)",
    }
    missing = [
        name for name, sql in checks.items() if not (season.execute(sql).fetchone() or [0])[0]
    ]
    assert missing == []
    odd = one(
        season,
        "select count(*) from gamebook where player_status = 'active' and not "
        "regexp_full_match(minutes, '\\d\\d:\\d\\d')",
    )[0]
    assert odd <= 20  # a handful per season


def test_every_pbp_actor_is_a_player_of_the_game(season: duckdb.DuckDBPyConnection) -> None:
    per_source = {src: (n, bad) for src, n, bad in season.execute(UNMATCHED_PBP_ACTORS).fetchall()}
    assert {"bdb", "bdb assist", "bdb block", "nbac player_1", "nbac assist"} <= set(per_source)
    assert {src: bad for src, (_, bad) in per_source.items() if bad} == {}


# --------------------------------------------------------------------------- identity drift


def test_identity_drift_between_gamebook_and_bdl(season: duckdb.DuckDBPyConnection) -> None:
    """A few players are written differently by one source: normalisation resolves some, the
    suffix rule (same game and team) the others; both directions exist; BDL-only rows stay."""
    pairs, differ, suffix_only, gamebook_suffix, bdl_suffix, bdl_only = one(
        season,
        """with g as (select game_id, team_abbr, player_lookup from gamebook),
                b as (select game_id, team_abbr, player_lookup from bdl_player_boxscores)
           select count(*),
                  count(*) filter (where g.player_lookup <> b.player_lookup),
                  count(*) filter (where norm(g.player_lookup) <> norm(b.player_lookup)),
                  count(*) filter (where norm(g.player_lookup) <> ident(g.player_lookup)
                                     and norm(b.player_lookup) = ident(b.player_lookup)),
                  count(*) filter (where norm(b.player_lookup) <> ident(b.player_lookup)
                                     and norm(g.player_lookup) = ident(g.player_lookup)),
                  (select count(*) from b where not exists (
                      select 1 from g where g.game_id = b.game_id
                        and ident(g.player_lookup) = ident(b.player_lookup)))
           from g join b on g.game_id = b.game_id and g.team_abbr = b.team_abbr
                        and ident(g.player_lookup) = ident(b.player_lookup)""",
    )
    assert 0.005 * pairs <= differ <= 0.03 * pairs
    assert 0 < suffix_only < differ  # the rest differ by diacritics / punctuation only
    assert gamebook_suffix > 0 and bdl_suffix > 0
    assert bdl_only > 0  # played players whose gamebook row is missing
    # a drifted lookup never collides with another player of the same day
    dupes = one(
        season,
        "select count(*) from (select game_date, norm(player_lookup) from bdl_player_boxscores "
        "group by all having count(distinct ident(player_lookup)) <> 1 or count(*) > 1)",
    )[0]
    assert dupes == 0


# --------------------------------------------------------------------------- minutes carry


def test_minutes_carry_is_the_next_whole_minute(season: duckdb.DuckDBPyConnection) -> None:
    """`30:60` (30:59.6 rounded) is 31:00: BDL, when it has the row unchanged, says so."""
    carry, active, bdl_checked, bdl_agrees = one(
        season,
        """with c as (
               select game_id, player_lookup, points,
                      cast(split_part(minutes, ':', 1) as int) + 1 as whole
               from gamebook where regexp_full_match(minutes, '\\d\\d:60'))
           select (select count(*) from c),
                  (select count(*) from gamebook where player_status = 'active'),
                  count(b.minutes),
                  count(*) filter (where b.minutes in (c.whole || ':00', c.whole::varchar))
           from c join bdl_player_boxscores b
             on b.game_id = c.game_id and ident(b.player_lookup) = ident(c.player_lookup)
            and b.points = c.points""",
    )
    assert 0.001 * active <= carry <= 0.01 * active
    assert bdl_checked > 0.5 * carry and bdl_agrees == bdl_checked


# --------------------------------------------------------------------------- corrections


def test_box_score_corrections(season: duckdb.DuckDBPyConnection) -> None:
    """About 1% of games re-issue one player's row days later with one stat corrected; the
    latest version agrees with the play-by-play, the first one is off by one play."""
    for table, rebounds in (
        ("nbac_gamebook_player_stats", "total_rebounds"),
        ("bdl_player_boxscores", "rebounds"),
    ):
        rows = season.execute(
            f"""with v as (
                    select *, row_number() over (partition by game_id, player_lookup
                                                 order by processed_at) as version,
                           count(*) over (partition by game_id, player_lookup) as versions,
                           max(processed_at) over (partition by game_id, player_lookup)
                               - min(processed_at) over (partition by game_id, player_lookup)
                               as span
                    from {table}_raw),
                first as (select * from v where span > interval 1 day and version = 1),
                last as (select * from v where span > interval 1 day and version = versions)
                select l.points - f.points, l.field_goals_made - f.field_goals_made,
                       l.assists - f.assists, l.{rebounds} - f.{rebounds},
                       l.points = 2 * l.field_goals_made + l.three_pointers_made
                                  + l.free_throws_made,
                       f.points = 2 * f.field_goals_made + f.three_pointers_made
                                  + f.free_throws_made,
                       l.processed_at > (select max(processed_at) from bdb
                                         where bdb.game_id = l.game_id)
                from first f join last l using (game_id, player_lookup)"""
        ).fetchall()
        games = one(season, "select count(distinct game_id) from nbac_schedule")[0]
        assert 0.001 * games <= len(rows) <= 0.02 * games, table
        changes = {row[:4] for row in rows}
        assert changes <= {(0, 0, -1, 0), (2, 1, 0, 0), (0, 0, 0, -1)}, table
        if table == "nbac_gamebook_player_stats":  # (BDL also halves a few rows' points)
            assert all(row[4] and row[5] for row in rows), table  # points rule, both versions
        assert all(row[6] is not False for row in rows), table  # after BigDataBall's arrival
    # the latest gamebook version is the one the play-by-play agrees with
    mismatched = one(
        season,
        """with corrected as (
               select game_id, player_lookup from nbac_gamebook_player_stats_raw
               group by all having max(processed_at) - min(processed_at) > interval 1 day),
           shots as (
               select game_id, player_1_lookup as player_lookup,
                      count(*) filter (where shot_made) as fgm
               from bdb_fixed where event_type = 'shot' group by all)
           select count(*) filter (where s.fgm <> g.field_goals_made)
           from corrected c join gamebook g using (game_id, player_lookup)
           join shots s using (game_id, player_lookup)""",
    )[0]
    assert mismatched == 0
