"""The project's rules against one real NBA game (WAS at OKC, 2016-11-30, one overtime).

These tests load it, build `+player_game_summary` with real dbt on a throwaway DuckDB file,
and compare the mart with the NBA's box score, shot-chart zone labels and play-by-play. The
fixture itself and its conversion to the raw-table contract are checked against the NBA's
own totals in python_tests/unit/test_real_game_fixture.py.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import real_game as rg
from conftest import duckdb_env, load_raw, parse_cache

from driver.dbt import results as dbt_results
from driver.dbt.invoke import DbtResult, run_dbt, window_vars

# The NBA's box score of this game lists only the 19 players who played (no DNP or inactive
# rows, which a real gamebook carries), so two run-book checks that assume 25-41 gamebook rows
# per game cannot pass on it: the rows-per-game minimum is 19 for this game (an error there
# would hold back the publish of the mart, write-audit-publish), the NULL-minutes share warns.
# Any other failing or warning test is a finding.
FIXTURE_VARS = {"validation_rows_per_game_min": 19}
FIXTURE_TEST_OUTCOMES = {
    "pgs_minutes_null_rate": "0% NULL minutes < 35%: the fixture has no DNP/inactive rows",
}

ZONE_COLUMNS = {
    "paint": ("paint_attempts", "paint_makes", "paint_blocks"),
    "mid_range": ("mid_range_attempts", "mid_range_makes", "mid_range_blocks"),
    "three": ("three_attempts_pbp", "three_makes_pbp", "three_pt_blocks"),
}

SHOT_ZONES_SQL = """
select
    event_id,
    {{ classify_shot_zone('is_three_label', 'x_tenths', 'y_tenths', 'shot_distance_ft',
        method='court_geometry') }} as zone_court_geometry,
    {{ classify_shot_zone('is_three_label', 'x_tenths', 'y_tenths', 'shot_distance_ft',
        method='distance') }} as zone_distance
from {{ ref('int_pbp_events') }}
where event_kind = 'field_goal'
"""


# --------------------------------------------------------------------------------------
# The mart, built with real dbt (slow)
# --------------------------------------------------------------------------------------


@dataclass
class Build:
    variant: str
    shot_zone_method: str
    result: DbtResult
    seconds: float
    rows: dict[str, dict[str, Any]]  # player_lookup -> mart row
    shot_zones: dict[int, dict[str, str]]  # event id -> zone per method, by the model's macro
    unit_test_failures: list[str]  # dbt unit tests that failed in this build (vars as given)


def _unit_test_failures(result: DbtResult) -> list[str]:
    return dbt_results.nodes(result, "unit_test", failed=True)


def _dbt_show_rows(result: DbtResult) -> list[dict[str, Any]]:
    for line in result.output.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        preview = (event.get("data") or {}).get("preview")
        if preview is not None:
            return json.loads(preview)
    raise AssertionError(f"no dbt show preview in output:\n{result.output[-3000:]}")


def _shot_zones(base: Path, vars_json: str, db: Path) -> dict[int, dict[str, str]]:
    """Event id -> the zone each rule gives the shot, by the model's macro (`dbt show`)."""
    show = run_dbt(
        ["show", "--inline", SHOT_ZONES_SQL, "--limit", "-1", "--output", "json"]
        + ["--log-format", "json", "--quiet"],
        target="dev",
        run_dir=base / "show",
        vars_json=vars_json,
        parse_cache=parse_cache(),
        env=duckdb_env(db),
        timeout=600,
    )
    assert show.ok, show.output[-3000:]
    return {
        int(r["event_id"]): {
            "court_geometry": r["zone_court_geometry"],
            "distance": r["zone_distance"],
        }
        for r in _dbt_show_rows(show)
    }


def _build(
    base: Path, variant: rg.Variant, shot_zone_method: str, unit_tests: bool, show_zones: bool
) -> Build:
    """Load the variant, build the mart (with the dbt unit tests if `unit_tests`) and, if
    `show_zones`, label every shot of int_pbp_events with both zone rules (`dbt show`)."""
    base.mkdir(parents=True, exist_ok=True)
    db = base / "nba.duckdb"
    rg.write_raw_tables(base / "raw", variant)
    load_raw(base / "raw", db)  # the project's own loader: the same contract check as real data
    vars_json = window_vars(
        rg.GAME_DATE.isoformat(),
        rg.GAME_DATE.isoformat(),
        {"shot_zone_method": shot_zone_method, **FIXTURE_VARS},
    )
    started = time.monotonic()
    no_unit_tests = [] if unit_tests else ["--exclude-resource-type", "unit_test"]
    result = run_dbt(
        ["build", "--select", "+player_game_summary", *no_unit_tests],
        target="dev",
        run_dir=base / "run",
        vars_json=vars_json,
        parse_cache=parse_cache(),
        env=duckdb_env(db),
        timeout=600,
    )
    unit_test_failures = _unit_test_failures(result)
    if unit_test_failures:
        # A failing unit test makes dbt skip the model under it; record the failures (a test
        # below reports them) and build again without unit tests, so the real game is still
        # compared with the mart.
        result = run_dbt(
            ["build", "--select", "+player_game_summary", "--exclude-resource-type", "unit_test"],
            target="dev",
            run_dir=base / "run_without_unit_tests",
            vars_json=vars_json,
            parse_cache=parse_cache(),
            env=duckdb_env(db),
            timeout=600,
        )
    seconds = time.monotonic() - started
    assert result.run_results is not None, result.output[-3000:]
    shot_zones = _shot_zones(base, vars_json, db) if show_zones else {}
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute("select * from nba_analytics.player_game_summary")
        names = [d[0] for d in cur.description]
        rows = {
            r["player_lookup"]: r
            for r in (dict(zip(names, t, strict=True)) for t in cur.fetchall())
        }
    return Build(
        variant,
        shot_zone_method,
        result,
        seconds,
        rows,
        shot_zones,
        unit_test_failures,
    )


# name -> (raw variant, shot_zone_method, run the dbt unit tests, label the shots).
# The unit tests do not read the raw data, so they run once per set of vars: in the geometry
# build and in the distance build (which checks they pass under the legacy rule). The shot
# labels read int_pbp_events, which the shot_zone_method var does not change (SHOT_ZONES_SQL
# names both methods): one `dbt show` per raw variant.
BUILDS: dict[str, tuple[rg.Variant, str, bool, bool]] = {
    "geometry": ("bigdataball", "court_geometry", True, True),
    "distance": ("bigdataball", "distance", True, False),
    "nbac": ("nbac", "court_geometry", False, True),
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Build]:
    """The three builds, each in its own DuckDB file and dbt run dirs, one after another:
    the dbt calls whose vars agree (geometry and nbac, their `dbt show`s) share one parse
    (conftest.duckdb_env, parse_cache), where concurrent builds each parsed the project."""
    base = tmp_path_factory.mktemp("real_game")
    done = {name: _build(base / name, *spec) for name, spec in BUILDS.items()}
    done["distance"].shot_zones = done["geometry"].shot_zones  # the same raw play-by-play
    return done


@pytest.fixture(scope="module")
def geometry_build(builds: dict[str, Build]) -> Build:
    return builds["geometry"]


@pytest.fixture(scope="module")
def distance_build(builds: dict[str, Build]) -> Build:
    return builds["distance"]


@pytest.fixture(scope="module")
def nbac_build(builds: dict[str, Build]) -> Build:
    return builds["nbac"]


def _assert_build_ok(build: Build) -> None:
    assert build.result.run_results is not None
    problems = []
    for node in build.result.run_results["results"]:
        uid, status = node["unique_id"], node["status"]
        name = uid.split(".")[2]
        if uid.startswith("model.") and status != "success":
            problems.append(f"{name}: {status} {node.get('message')}")
        if uid.startswith("test.") and status != "pass" and name not in FIXTURE_TEST_OUTCOMES:
            problems.append(f"{name}: {status} {node.get('message')}")
    assert not problems, "\n".join(problems)
    assert set(build.rows) == set(rg.expected_players())


def _mismatches(build: Build, column: str, expected: dict[str, Any]) -> list[str]:
    return [
        f"{lookup}.{column}: expected {want!r}, got {build.rows[lookup][column]!r}"
        for lookup, want in expected.items()
        if build.rows[lookup][column] != want
    ]


def _zone_agreement(build: Build, method: str) -> tuple[int, int]:
    labels = {s.event_num: s.nba_zone for s in rg.shots()}
    assert set(build.shot_zones) == set(labels)
    agree = sum(build.shot_zones[e][method] == zone for e, zone in labels.items())
    return agree, len(labels)


def test_build_succeeds(geometry_build: Build) -> None:
    _assert_build_ok(geometry_build)
    assert not geometry_build.unit_test_failures, geometry_build.unit_test_failures
    print(f"\ndbt build: {geometry_build.seconds:.1f}s")


def test_identity_status_and_minutes(geometry_build: Build) -> None:
    players = rg.expected_players()
    problems: list[str] = []
    for lookup, p in players.items():
        row = geometry_build.rows[lookup]
        want = {
            "game_id": rg.GAME_ID,
            "game_date": rg.GAME_DATE,
            "season_year": rg.SEASON_YEAR,
            "team_abbr": p.team_abbr,
            "opponent_team_abbr": rg.AWAY_TEAM if p.is_home else rg.HOME_TEAM,
            "home_game": p.is_home,
            "player_status": p.status,
            "is_active": p.status == "active",
            # dnp / inactive rows: NULL minutes and is_dnp (none in this game: all 19 played)
            "is_dnp": p.status != "active" or not p.minutes_played,
            "minutes_played": p.minutes_played,
            "minutes_parse_status": "ok" if p.minutes_played is not None else "missing",
            "win_flag": p.team_abbr == "OKC",  # OKC 126 - WAS 115 in overtime
            "starter_flag": bool(p.minutes_played and p.minutes_played > 20),
            "primary_source_used": "nbac_gamebook",
        }
        problems += [
            f"{lookup}.{col}: expected {v!r}, got {row[col]!r}"
            for col, v in want.items()
            if row[col] != v
        ]
    assert not problems, "\n".join(problems)
    assert geometry_build.rows["victoroladipo"]["minutes_played"] == Decimal("45.5")
    assert geometry_build.rows["markieffmorris"]["minutes_played"] == Decimal("36.7")


def test_box_score_columns(geometry_build: Build) -> None:
    mapping = {
        "points": "PTS",
        "assists": "AST",
        "offensive_rebounds": "OREB",
        "defensive_rebounds": "DREB",
        "total_rebounds": "REB",
        "steals": "STL",
        "blocks": "BLK",
        "turnovers": "TO",
        "personal_fouls": "PF",
        "plus_minus": "PLUS_MINUS",
        "fg_attempts": "FGA",
        "fg_makes": "FGM",
        "three_pt_attempts": "FG3A",
        "three_pt_makes": "FG3M",
        "ft_attempts": "FTA",
        "ft_makes": "FTM",
    }
    problems: list[str] = []
    for column, box_col in mapping.items():
        want = {k: p.box[box_col] for k, p in rg.expected_players().items()}
        problems += _mismatches(geometry_build, column, want)
    assert not problems, "\n".join(problems)


def _assert_zones_match_nba(build: Build, method: str) -> None:
    """Per-player zone counts: equal to the rule applied per shot, close to the NBA's labels."""
    players = rg.expected_players()
    rule = rg.zone_court_geometry if method == "court_geometry" else rg.zone_distance
    problems: list[str] = []
    l1_from_nba = 0
    for lookup, p in players.items():
        mine = [s for s in rg.shots() if s.shooter == p.name]
        row = build.rows[lookup]
        for zone, (att_col, make_col, _) in ZONE_COLUMNS.items():
            want_att = sum(rule(s) == zone for s in mine)
            want_made = sum(rule(s) == zone and s.made for s in mine)
            if row[att_col] != want_att:
                problems.append(f"{lookup}.{att_col}: expected {want_att}, got {row[att_col]}")
            if row[make_col] != want_made:
                problems.append(f"{lookup}.{make_col}: expected {want_made}, got {row[make_col]}")
            l1_from_nba += abs(row[att_col] - p.nba_zone_attempts[zone])
    assert not problems, "\n".join(problems)
    # Every shot the rule puts in another zone than the NBA moves one count out of one zone
    # into another: the per-player distance from the NBA's labels is 2 x the disagreements.
    agree, total = _zone_agreement(build, method)
    assert l1_from_nba <= 2 * (total - agree)
    print(
        f"\n{method}: model agrees with SHOT_ZONE_BASIC on {agree}/{total} shots "
        f"({100 * agree / total:.1f}%); per-player |diff| sum {l1_from_nba}"
    )


def test_shot_zones_court_geometry(geometry_build: Build) -> None:
    _assert_zones_match_nba(geometry_build, "court_geometry")
    agree, total = _zone_agreement(geometry_build, "court_geometry")
    assert agree / total >= 0.99
    assert {r["shot_zone_method"] for r in geometry_build.rows.values()} == {"court_geometry"}


def test_legacy_rule_build_passes_unit_tests(distance_build: Build) -> None:
    """`dbt build --vars '{shot_zone_method: distance}'` (the selectable legacy rule) passes.

    A unit test that does not pin shot_zone_method in its overrides inherits it from the
    command line and fails, and dbt then skips int_player_shot_zones and the mart.
    """
    assert not distance_build.unit_test_failures, distance_build.unit_test_failures


def test_shot_zones_legacy_distance_rule_agrees_less(
    geometry_build: Build, distance_build: Build
) -> None:
    _assert_build_ok(distance_build)
    _assert_zones_match_nba(distance_build, "distance")
    geo_agree, total = _zone_agreement(geometry_build, "court_geometry")
    dist_agree, _ = _zone_agreement(distance_build, "distance")
    assert dist_agree < geo_agree
    assert {r["shot_zone_method"] for r in distance_build.rows.values()} == {"distance"}
    # The legacy rule calls in-the-paint (non-RA) jumpers at 10-12 ft mid-range.
    paint_nba = sum(p.nba_zone_attempts["paint"] for p in rg.expected_players().values())
    paint_legacy = sum(r["paint_attempts"] for r in distance_build.rows.values())
    assert paint_legacy < paint_nba


def test_zone_consistency_with_box(geometry_build: Build) -> None:
    problems: list[str] = []
    for lookup, p in rg.expected_players().items():
        r = geometry_build.rows[lookup]
        zone_sum = r["paint_attempts"] + r["mid_range_attempts"] + r["three_attempts_pbp"]
        if abs(zone_sum - p.box["FGA"]) > 1:
            problems.append(f"{lookup}: zone attempts {zone_sum} vs FGA {p.box['FGA']}")
        if r["assisted_fg_makes"] + r["unassisted_fg_makes"] != p.box["FGM"]:
            problems.append(f"{lookup}: assisted + unassisted vs FGM {p.box['FGM']}")
        if r["three_attempts_pbp"] != p.box["FG3A"]:
            problems.append(f"{lookup}: three_attempts_pbp {r['three_attempts_pbp']} vs FG3A")
        if r["three_makes_pbp"] != p.box["FG3M"]:
            problems.append(f"{lookup}: three_makes_pbp {r['three_makes_pbp']} vs FG3M")
        if not r["has_complete_shot_zones"] or r["shot_zone_source"] != "bigdataball":
            problems.append(
                f"{lookup}: zones {r['has_complete_shot_zones']} {r['shot_zone_source']}"
            )
    assert not problems, "\n".join(problems)
    want = {k: p.assisted_fg_makes for k, p in rg.expected_players().items()}
    assert not _mismatches(geometry_build, "assisted_fg_makes", want)


def test_and_ones(geometry_build: Build) -> None:
    want = {k: p.and1_count for k, p in rg.expected_players().items()}
    assert not _mismatches(geometry_build, "and1_count", want)
    assert sum(r["and1_count"] for r in geometry_build.rows.values()) == 3


def test_blocks_by_zone(geometry_build: Build) -> None:
    problems: list[str] = []
    for lookup, p in rg.expected_players().items():
        r = geometry_build.rows[lookup]
        by_zone = {zone: r[cols[2]] for zone, cols in ZONE_COLUMNS.items()}
        if sum(by_zone.values()) != p.box["BLK"]:
            problems.append(f"{lookup}: blocks by zone {by_zone} vs box BLK {p.box['BLK']}")
        if by_zone != {z: p.geometry_zone_blocks[z] for z in ZONE_COLUMNS}:
            problems.append(f"{lookup}: blocks by zone {by_zone} vs {dict(p.geometry_zone_blocks)}")
    assert not problems, "\n".join(problems)


def test_usage_rate_uses_overtime_team_minutes(geometry_build: Build) -> None:
    problems: list[str] = []
    for lookup, p in rg.expected_players().items():
        r = geometry_build.rows[lookup]
        for col, want, tol in (
            ("usage_rate", p.usage_rate, 0.01),
            ("ts_pct", p.ts_pct, 0.001),
            ("efg_pct", p.efg_pct, 0.001),
        ):
            got = r[col]
            if (want is None) != (got is None) or (
                want is not None and abs(float(got) - want) > tol + 1e-9
            ):
                problems.append(f"{lookup}.{col}: expected {want}, got {got}")
    assert not problems, "\n".join(problems)
    # By hand: Westbrook FGA 35, FTA 10, TOV 5, 41:07 (41.1); OKC 95 / 31 / 13; 265 minutes.
    by_hand = 100 * (35 + 0.44 * 10 + 5) * (265 / 5) / (41.1 * (95 + 0.44 * 31 + 13))
    assert float(geometry_build.rows["russellwestbrook"]["usage_rate"]) == pytest.approx(
        by_hand, abs=0.01
    )
    legacy_48 = by_hand * 48 / 53  # the legacy constant would have said this
    assert abs(float(geometry_build.rows["russellwestbrook"]["usage_rate"]) - legacy_48) > 1


def test_nbac_play_by_play_path(geometry_build: Build, nbac_build: Build) -> None:
    _assert_build_ok(nbac_build)
    assert {r["shot_zone_source"] for r in nbac_build.rows.values()} == {"nbac_play_by_play"}
    # NBA.com coordinates (feet) are used, not the distance fallback
    assert {r["shot_zone_method"] for r in nbac_build.rows.values()} == {"court_geometry"}
    same = [
        "paint_attempts",
        "paint_makes",
        "mid_range_attempts",
        "mid_range_makes",
        "three_attempts_pbp",
        "three_makes_pbp",
        "assisted_fg_makes",
        "unassisted_fg_makes",
        "and1_count",
        "paint_blocks",
        "mid_range_blocks",
        "three_pt_blocks",
        "has_complete_shot_zones",
    ]
    problems = []
    for column in same:
        want = {k: r[column] for k, r in geometry_build.rows.items()}
        problems += _mismatches(nbac_build, column, want)
    assert not problems, "\n".join(problems)
    _assert_zones_match_nba(nbac_build, "court_geometry")
