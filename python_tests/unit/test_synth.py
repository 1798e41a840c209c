"""The synthetic data generator: contract, internal consistency, volumes, determinism, windows."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import RAW_MONTH, generate_raw
from synth_sql import UNMATCHED_PBP_ACTORS, connect, one

from driver.project import PROJECT_DIR, load_contract
from synth.players import player_lookup
from synth.writer import ARROW_TYPES

CONTRACT = load_contract("raw_tables")["tables"]


@pytest.fixture(scope="module")
def month(raw_month_dir: Path) -> duckdb.DuckDBPyConnection:
    return connect(raw_month_dir)


@pytest.fixture(scope="module")
def postseason(raw_postseason_dir: Path) -> duckdb.DuckDBPyConnection:
    return connect(raw_postseason_dir)


def _hashes(raw: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in raw.glob("*.parquet")}


def _row_digests(raw: Path) -> dict[str, str]:
    """Per table, a digest of its rows in file order (independent of Parquet encoding)."""
    out = {}
    for table in CONTRACT:
        data = pq.read_table(raw / f"{table}.parquet")
        h = hashlib.sha256()
        for name in data.column_names:
            h.update(name.encode())
            h.update(repr(data.column(name).to_pylist()).encode())
        out[table] = h.hexdigest()[:16]
    return out


# The month's rows (RAW_MONTH), messy and clean. A refactor of the generator keeps them; a
# deliberate change to the data updates them in the same commit, saying what changed.
MONTH_DIGESTS = {
    "nbac_gamebook_player_stats": "195165275afb493c",
    "bdl_player_boxscores": "a715248e477f536f",
    "bigdataball_play_by_play": "05eb3578f409fe43",
    "nbac_play_by_play": "062c6a25386517ec",
    "nbac_team_boxscore": "94084801541229ad",
    "nbac_schedule": "8f9b75df514a38c7",
}
CLEAN_MONTH_DIGESTS = {
    "nbac_gamebook_player_stats": "ff4f22cef7df1380",
    "bdl_player_boxscores": "62bed4684c30bb0f",
    "bigdataball_play_by_play": "92ef129f1c685e5f",
    "nbac_play_by_play": "715c9f1fccf521da",
    "nbac_team_boxscore": "2bdb76d4c9b23ded",
    "nbac_schedule": "3b2829e274393655",
}


# --------------------------------------------------------------------------- contract


def test_every_table_has_exactly_the_contract_columns_and_types(raw_month_dir: Path) -> None:
    for table, spec in CONTRACT.items():
        schema = pq.read_schema(raw_month_dir / f"{table}.parquet")
        assert schema.names == list(spec["columns"]), table
        for column, ctype in spec["columns"].items():
            assert schema.field(column).type == ARROW_TYPES[ctype], (table, column)
    assert not list(raw_month_dir.glob(".*tmp*")), "temporary files left behind"


def test_player_lookup_rule() -> None:
    assert player_lookup("LeBron James") == "lebronjames"
    assert player_lookup("P.J. Tucker") == "pjtucker"
    assert player_lookup("José Alvarado") == "josealvarado"
    assert player_lookup("Karl-Anthony Towns") == "karlanthonytowns"
    assert player_lookup("Michael Porter Jr.") == "michaelporterjr"
    assert player_lookup("Nikola Jokić") == "nikolajokic"


# --------------------------------------------------------------------------- box scores


def test_box_score_arithmetic(month: duckdb.DuckDBPyConnection) -> None:
    for table, (fgm, fga, tpm, tpa, ftm, fta) in {
        "nbac_gamebook_player_stats": ("field_goals_made", "field_goals_attempted",
                                       "three_pointers_made", "three_pointers_attempted",
                                       "free_throws_made", "free_throws_attempted"),
        "nbac_team_boxscore": ("fg_made", "fg_attempted", "three_pt_made",
                               "three_pt_attempted", "ft_made", "ft_attempted"),
    }.items():  # fmt: skip
        bad = one(
            month,
            f"select count(*) from {table} where points <> 2 * {fgm} + {tpm} + {ftm} "
            f"or {fgm} > {fga} or {tpm} > {tpa} or {ftm} > {fta} or {tpm} > {fgm}",
        )[0]
        assert bad == 0, table
    bad_reb = one(
        month,
        "select count(*) from gamebook where total_rebounds <> offensive_rebounds + "
        "defensive_rebounds",
    )[0]
    assert bad_reb == 0


def test_team_box_is_the_sum_of_its_players(month: duckdb.DuckDBPyConnection) -> None:
    # teams whose gamebook is complete: parsed player seconds add up to the team minutes
    sql = """
    with players as (
        select game_id, team_abbr,
               sum(try_cast(split_part(minutes, ':', 1) as int) * 60
                   + try_cast(split_part(minutes, ':', 2) as int)) as secs,
               count(*) filter (where player_status = 'active'
                                and not regexp_full_match(minutes, '\\d\\d:\\d\\d')) as odd,
               sum(points) as pts, sum(field_goals_attempted) as fga,
               sum(three_pointers_made) as tpm, sum(free_throws_attempted) as fta,
               sum(total_rebounds) as reb, sum(assists) as ast, sum(steals) as stl,
               sum(blocks) as blk, sum(turnovers) as tov, sum(personal_fouls) as pf
        from gamebook where player_status = 'active' group by all),
    teams as (
        select regexp_replace(game_id, '^(\\d+)_(\\w+)_(\\w+)$', '\\1') as d, *,
               cast(split_part(minutes, ':', 1) as int) * 60 as team_secs
        from nbac_team_boxscore)
    select count(*) as n,
           count(*) filter (where p.secs = t.team_secs and p.odd = 0) as complete,
           count(*) filter (where p.secs = t.team_secs and p.odd = 0 and (
               p.pts <> t.points or p.fga <> t.fg_attempted or p.tpm <> t.three_pt_made
               or p.fta <> t.ft_attempted or p.reb <> t.total_rebounds or p.ast <> t.assists
               or p.stl <> t.steals or p.blk <> t.blocks or p.tov <> t.turnovers
               or p.pf <> t.personal_fouls)) as mismatched
    from teams t join players p
      on p.team_abbr = t.team_abbr
     and p.game_id in (t.game_id,
                       regexp_replace(t.game_id, '^(\\d+)_(\\w+)_(\\w+)$', '\\1_\\3_\\2'))
    """
    n, complete, mismatched = one(month, sql)
    assert n > 400
    assert complete >= 0.95 * n
    assert mismatched == 0


def test_team_minutes_and_points(month: duckdb.DuckDBPyConnection) -> None:
    minutes = {
        r[0] for r in month.execute("select distinct minutes from nbac_team_boxscore").fetchall()
    }
    assert "240:00" in minutes
    assert minutes <= {f"{240 + 25 * k}:00" for k in range(5)}
    lo, hi, avg = one(month, "select min(points), max(points), avg(points) from nbac_team_boxscore")
    assert lo >= 70 and hi <= 180 and 100 <= avg <= 118
    too_long = one(
        month,
        """select count(*) from gamebook g join nbac_team_boxscore t
           on t.game_date = g.game_date and t.team_abbr = g.team_abbr
           where regexp_full_match(g.minutes, '\\d\\d:\\d\\d')
             and cast(split_part(g.minutes, ':', 1) as int) * 5
                 >= cast(split_part(t.minutes, ':', 1) as int)""",
    )[0]
    assert too_long == 0  # nobody plays the whole game
    assert (
        one(month, "select count(*) from nbac_team_boxscore")[0]
        == 2 * one(month, "select count(distinct game_id) from nbac_schedule")[0]
    )


def test_winner_scores_more_and_schedule_agrees(month: duckdb.DuckDBPyConnection) -> None:
    sql = """
    with t as (
        select game_date, team_abbr, is_home, points from nbac_team_boxscore),
    s as (select * from nbac_schedule where game_status = 3)
    select count(*),
           count(*) filter (where s.home_team_score = s.away_team_score),
           count(*) filter (where h.points <> s.home_team_score or a.points <> s.away_team_score)
    from s
    join t h on h.game_date = s.game_date and h.team_abbr = s.home_team_tricode and h.is_home
    join t a on a.game_date = s.game_date and a.team_abbr = s.away_team_tricode and not a.is_home
    """
    n, ties, disagree = one(month, sql)
    assert n > 200 and ties == 0 and disagree == 0


def test_minutes_null_share_and_coverage(month: duckdb.DuckDBPyConnection) -> None:
    share = one(month, "select avg(case when minutes is null then 1.0 else 0 end) from gamebook")
    assert 0.35 <= share[0] <= 0.45
    coverage = one(
        month,
        "select avg(case when regexp_full_match(minutes, '\\d\\d:[0-5]\\d') then 1.0 else 0 end)"
        " from gamebook where player_status = 'active'",
    )[0]
    assert coverage >= 0.99
    per_game = month.execute(
        "select min(n), max(n), min(a), max(a) from (select game_id, count(*) n, "
        "count(*) filter (where player_status = 'active') a from gamebook group by 1)"
    ).fetchone()
    assert per_game is not None
    assert per_game[0] >= 25 and per_game[1] <= 41 and per_game[2] >= 18 and per_game[3] <= 36
    dnp = one(
        month,
        "select count(*) from gamebook where player_status <> 'active' and (minutes is not null "
        "or points is not null or dnp_reason is null)",
    )[0]
    assert dnp == 0


def test_bdl_rows_and_minute_shapes(month: duckdb.DuckDBPyConnection) -> None:
    lo, hi = one(
        month,
        "select min(n), max(n) from (select game_id, count(*) n from bdl_player_boxscores "
        "group by 1)",
    )
    assert lo >= 26 and hi <= 35
    shapes = month.execute(
        "select count(*) filter (where regexp_full_match(minutes, '\\d{1,2}:\\d\\d')), "
        "count(*) filter (where regexp_full_match(minutes, '\\d{1,2}') and minutes <> '00'), "
        "count(*) filter (where minutes = '00') from bdl_player_boxscores"
    ).fetchone()
    assert shapes is not None and all(n > 0 for n in shapes)


# --------------------------------------------------------------------------- play-by-play


def test_bigdataball_shots_equal_the_box_score_per_player(month: duckdb.DuckDBPyConnection) -> None:
    sql = """
    with pbp as (
        select game_id, player_1_lookup as player_lookup,
               count(*) filter (where event_type = 'shot') as fga,
               count(*) filter (where event_type = 'shot' and shot_made) as fgm,
               count(*) filter (where event_type = 'shot' and shot_type = '3PT') as tpa,
               count(*) filter (where event_type = 'shot' and shot_type = '3PT' and shot_made)
                   as tpm,
               count(*) filter (where event_type = 'free throw') as fta,
               count(*) filter (where event_type = 'free throw' and shot_made) as ftm
        from bdb_fixed where player_1_lookup is not null group by all),
    box as (
        select game_id, player_lookup, field_goals_attempted fga, field_goals_made fgm,
               three_pointers_attempted tpa, three_pointers_made tpm,
               free_throws_attempted fta, free_throws_made ftm
        from gamebook
        where player_status = 'active'
          and game_id in (select game_id from bdb))
    , pbp_in_gamebook as (select * from pbp where game_id in (select game_id from box))
    select count(*),
           count(*) filter (where coalesce(b.fga, 0) <> coalesce(p.fga, 0)
                            or coalesce(b.fgm, 0) <> coalesce(p.fgm, 0)
                            or coalesce(b.tpa, 0) <> coalesce(p.tpa, 0)
                            or coalesce(b.tpm, 0) <> coalesce(p.tpm, 0)
                            or coalesce(b.fta, 0) <> coalesce(p.fta, 0)
                            or coalesce(b.ftm, 0) <> coalesce(p.ftm, 0)),
           count(*) filter (where b.player_lookup is null)
    from box b full join pbp_in_gamebook p using (game_id, player_lookup)
    where b.fga > 0 or p.fga > 0 or b.fta > 0 or p.fta > 0
    """
    n, mismatched, pbp_only = one(month, sql)
    assert n > 3000
    # a pbp shooter without a gamebook row is a player whose gamebook row is missing (BDL has it)
    assert pbp_only <= 0.005 * n
    assert mismatched == pbp_only


@pytest.mark.parametrize("window", ["month", "postseason"])
def test_every_pbp_actor_is_a_player_of_the_game(
    window: str, request: pytest.FixtureRequest
) -> None:
    con: duckdb.DuckDBPyConnection = request.getfixturevalue(window)
    per_source = {src: (n, bad) for src, n, bad in con.execute(UNMATCHED_PBP_ACTORS).fetchall()}
    assert {"bdb", "bdb assist", "bdb block", "nbac player_1", "nbac assist"} <= set(per_source)
    assert {src: bad for src, (_, bad) in per_source.items() if bad} == {}


def test_postseason_box_scores_match_the_play_by_play(
    postseason: duckdb.DuckDBPyConnection,
) -> None:
    kinds = dict(
        postseason.execute(
            "select season_type, count(*) from nbac_schedule where game_status = 3 group by 1"
        ).fetchall()
    )
    assert kinds.keys() == {"Regular Season", "PlayIn", "Playoffs"} and kinds["Playoffs"] >= 30
    # per player and game: BigDataBall shot rows = box score field goal attempts
    fga = """
    with box as (
        select game_id, team_abbr, player_lookup, field_goals_attempted as fga
        from gamebook where player_status = 'active'
        union all  -- a played player's missing gamebook row: BDL has the same counts
        select game_id, team_abbr, player_lookup, field_goals_attempted
        from bdl_player_boxscores b
        where not exists (select 1 from gamebook g where g.game_id = b.game_id
                          and ident(g.player_lookup) = ident(b.player_lookup))),
    shots as (
        select game_id, player_1_team_abbr as team_abbr, player_1_lookup as player_lookup,
               count(*) as fga
        from bdb_fixed where event_type = 'shot' group by all)
    select count(*), count(*) filter (where coalesce(b.fga, -1) <> coalesce(s.fga, 0))
    from shots s left join box b using (game_id, team_abbr, player_lookup)
    """
    n, bad = one(postseason, fga)
    assert n > 1000 and bad == 0
    missing = one(
        postseason,
        "select count(*) from (select game_id, team_abbr, player_lookup from gamebook "
        "where field_goals_attempted > 0 and game_id in (select game_id from bdb) except "
        "select game_id, player_1_team_abbr, player_1_lookup from bdb_fixed "
        "where event_type = 'shot')",
    )[0]
    assert missing == 0
    # team box points = the players' points = the play-by-play's; the winner scores more
    points = """
    with players as (
        select game_id, team_abbr, sum(points) as pts from bdl_player_boxscores group by all),
    wrong as (  -- BDL halves a few rows' points: take the gamebook's where it has the row
        select b.game_id, b.team_abbr, sum(g.points - b.points) as fix
        from bdl_player_boxscores b join gamebook g
          on g.game_id = b.game_id and ident(g.player_lookup) = ident(b.player_lookup)
        where g.points <> b.points group by all),
    pbp as (
        select game_id, player_1_team_abbr as team_abbr, sum(points_scored) as pts
        from bdb group by all),
    t as (
        select *, regexp_replace(game_id, '^(\\d+)_(\\w+)_(\\w+)$', '\\1_\\3_\\2') as rev
        from nbac_team_boxscore)
    select count(*),
           count(*) filter (where p.pts + coalesce(w.fix, 0) <> t.points),
           count(*) filter (where q.pts is not null and q.pts <> t.points),
           count(q.pts)
    from t
    join players p on p.team_abbr = t.team_abbr and p.game_id in (t.game_id, t.rev)
    left join wrong w on w.game_id = p.game_id and w.team_abbr = t.team_abbr
    left join pbp q on q.game_id = p.game_id and q.team_abbr = t.team_abbr
    """
    n, bad_box, bad_pbp, with_pbp = one(postseason, points)
    assert n == 2 * sum(kinds.values()) and bad_box == 0 and bad_pbp == 0 and with_pbp > 150
    winner = """
    with t as (select game_date, team_abbr, is_home, points from nbac_team_boxscore)
    select count(*),
           count(*) filter (where h.points = a.points or h.points <> s.home_team_score
                            or a.points <> s.away_team_score)
    from nbac_schedule s
    join t h on h.game_date = s.game_date and h.team_abbr = s.home_team_tricode and h.is_home
    join t a on a.game_date = s.game_date and a.team_abbr = s.away_team_tricode and not a.is_home
    where s.game_status = 3
    """
    assert one(postseason, winner) == (sum(kinds.values()), 0)


def test_events_per_game_and_shot_mix(month: duckdb.DuckDBPyConnection) -> None:
    row = one(
        month,
        """select min(n), max(n), avg(n), avg(fga), avg(t3), avg(fta), min(nba), max(nba) from (
            select game_id, count(*) n, count(*) filter (where event_type = 'shot') fga,
                   avg(case when event_type = 'shot' then (shot_type = '3PT')::int end) t3,
                   count(*) filter (where event_type = 'free throw') fta
            from bdb group by 1) join (select game_id, count(*) nba from nbac_play_by_play
            group by 1) using (game_id)""",
    )
    lo, hi, avg, fga, three, fta, nba_lo, nba_hi = row
    assert lo >= 350 and hi <= 550 and 430 <= avg <= 490
    assert 160 <= fga <= 190 and 0.36 <= three <= 0.44 and 40 <= fta <= 60
    assert nba_lo >= 400 and nba_hi <= 700


def test_shot_locations_match_zones(month: duckdb.DuckDBPyConnection) -> None:
    sql = """
    select
      count(*) filter (where shot_type = '3PT' and not (
          (abs(original_x) >= 220 and original_y <= 92.5)
          or sqrt(original_x ^ 2 + original_y ^ 2) >= 237.5 - 0.5)),
      count(*) filter (where shot_type = '2PT' and (
          (abs(original_x) >= 220 and original_y <= 92.5)
          or sqrt(original_x ^ 2 + original_y ^ 2) >= 237.5)),
      count(*) filter (where original_y < -52.5 or abs(original_x) > 250),
      count(*) filter (where shot_distance <> round(sqrt(original_x ^ 2 + original_y ^ 2) / 10)),
      count(*) filter (where abs(converted_x - (25 + original_x / 10)) > 0.01
                          or abs(converted_y - (5.25 + original_y / 10)) > 0.01),
      avg(case when shot_type = '2PT' and abs(original_x) <= 80 and original_y <= 137.5
          then 1.0 else 0 end),
      avg(case when shot_type = '2PT' and not (abs(original_x) <= 80 and original_y <= 137.5)
          then 1.0 else 0 end),
      count(*) filter (where original_x is null)
    from bdb where event_type = 'shot' and data_source = 'bigdataball'
    """
    bad3, bad2, off_court, bad_dist, bad_conv, paint, mid, no_xy = one(month, sql)
    assert (bad3, bad2, off_court, bad_dist, bad_conv, no_xy) == (0, 0, 0, 0, 0, 0)
    assert 0.30 <= paint <= 0.42 and 0.18 <= mid <= 0.28


def test_assists_blocks_and_ones(month: duckdb.DuckDBPyConnection) -> None:
    ast, blk, self_ast = one(
        month,
        """select avg(case when shot_made then coalesce(player_2_role = 'assist', false)::int end),
                  avg(case when not shot_made then coalesce(player_2_role = 'block', false)::int
                      end),
                  count(*) filter (where player_2_lookup = player_1_lookup)
           from bdb where event_type = 'shot'""",
    )
    assert 0.5 <= ast <= 0.7 and 0.07 <= blk <= 0.13 and self_ast == 0
    # every free throw 1/1 follows a made field goal by the same player at the same second
    orphan = one(
        month,
        """with e as (select *, lag(event_type) over w as prev_type,
                             lag(player_1_lookup) over w as prev_player,
                             lag(shot_made) over w as prev_made
                      from bdb where event_type in ('shot', 'free throw')
                      window w as (partition by game_id order by event_sequence))
           select count(*) filter (where prev_type <> 'shot' or prev_player <> player_1_lookup
                                   or not prev_made),
                  count(*)
           from e where event_subtype = 'free throw 1/1'""",
    )
    assert orphan[0] == 0 and orphan[1] > 50


def test_clock_period_and_sequence_are_consistent(month: duckdb.DuckDBPyConnection) -> None:
    sql = """
    with e as (
        select *, lag(elapsed_seconds) over w as prev_el, row_number() over w as rn,
               case when period <= 4 then period * 720 else 2880 + (period - 4) * 300 end
                   as period_end
        from bdb window w as (partition by game_id order by event_sequence))
    select count(*) filter (where elapsed_seconds < prev_el),
           count(*) filter (where rn <> event_sequence),
           count(*) filter (where game_clock <> format('{:02d}:{:02d}',
                            (period_end - elapsed_seconds) // 60,
                            (period_end - elapsed_seconds) % 60)),
           count(*) filter (where period_end - elapsed_seconds
                            > case when period <= 4 then 720 else 300 end)
    from e
    """
    assert one(month, sql) == (0, 0, 0, 0)


# --------------------------------------------------------------------------- messiness


def test_clean_flag_turns_messiness_off(tmp_path: Path) -> None:
    start, end, seed = RAW_MONTH
    clean = generate_raw(tmp_path, start, end, seed, clean=True)
    assert _row_digests(clean) == CLEAN_MONTH_DIGESTS
    con = connect(clean)
    assert one(
        con,
        "select (select count(*) from nbac_gamebook_player_stats_raw) - "
        "(select count(*) from gamebook), "
        "(select count(*) from bdb where regexp_matches(player_1_lookup, '^[0-9]')), "
        "(select count(*) from bdb where player_1_lookup not in "
        " (select player_lookup from gamebook)), "
        "(select count(*) from gamebook where player_status = 'active' "
        " and not regexp_full_match(minutes, '\\d\\d:\\d\\d'))",
    ) == (0, 0, 0, 0)


# --------------------------------------------------------------------------- determinism, windows


def test_month_rows_are_pinned(raw_month_dir: Path) -> None:
    assert _row_digests(raw_month_dir) == MONTH_DIGESTS


def test_same_seed_gives_identical_files(raw_month_dir: Path, tmp_path: Path) -> None:
    start, end, seed = RAW_MONTH
    again = generate_raw(tmp_path / "again", start, end, seed)
    assert _hashes(again) == _hashes(raw_month_dir)
    other = generate_raw(tmp_path / "other", start, end, seed + 1)
    differ = [n for n, h in _hashes(other).items() if _hashes(raw_month_dir)[n] != h]
    assert len(differ) == 6


def test_a_sub_window_is_the_filtered_full_window(raw_month_dir: Path, tmp_path: Path) -> None:
    _, _, seed = RAW_MONTH
    sub = generate_raw(tmp_path / "sub", "2022-01-10", "2022-01-12", seed)
    con = duckdb.connect()
    for table in CONTRACT:
        full_rows = con.execute(
            f"select * from read_parquet('{raw_month_dir / table}.parquet') "
            "where game_date between '2022-01-10' and '2022-01-12' order by all"
        ).fetchall()
        sub_rows = con.execute(
            f"select * from read_parquet('{sub / table}.parquet') order by all"
        ).fetchall()
        assert sub_rows == full_rows, table
        assert table == "nbac_play_by_play" or len(sub_rows) > 0, table


def test_cli_rejects_bad_input(tmp_path: Path) -> None:
    for argv in (
        ["--start-date", "2022-02-30", "--end-date", "2022-03-01"],
        ["--start-date", "2022-03-01", "--end-date", "2022-02-01"],
        ["--start-date", "2022-03-01", "--end-date", "2022-03-02", "--seed", "-1"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "synth", *argv, "--out", str(tmp_path / "x")],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert "error:" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_cli_writes_a_window(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "synth", "--start-date", "2022-07-01",
         "--end-date", "2022-07-31", "--seed", "3", "--out", str(tmp_path)],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # July has no games: every table exists, with the contract's columns, and is empty
    for table in CONTRACT:
        assert pq.read_metadata(tmp_path / f"{table}.parquet").num_rows == 0


def test_cli_without_numpy_says_to_install_the_extra(tmp_path: Path) -> None:
    # numpy blocked: the CLI module still imports (the driver lists it), running it exits 2
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from synth.cli import main\n"
        f"sys.exit(main(['--start-date', '2022-01-01', '--end-date', '2022-01-02', "
        f"'--out', {str(tmp_path / 'x')!r}]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2, proc.stderr
    assert "synth extra" in proc.stderr
    assert not (tmp_path / "x").exists()
