"""One real NBA game (WAS at OKC, 2016-11-30, one overtime): the fixture and its conversion
to the raw-table contract, checked against the NBA's own totals (no dbt). The mart built
from it is checked in python_tests/integration/test_real_game.py."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import real_game as rg

# --------------------------------------------------------------------------------------
# Fixture sanity (fast)
# --------------------------------------------------------------------------------------


def _box_by_team() -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for row in rg.player_stats():
        counter = out.setdefault(row["TEAM_ABBREVIATION"], Counter())
        for col in rg.BOX_COLUMNS:
            counter[col] += int(row[col] or 0)
    return out


def test_player_box_sums_to_team_box() -> None:
    teams = rg.team_stats()
    for abbr, sums in _box_by_team().items():
        for col in rg.BOX_COLUMNS:
            if col != "PLUS_MINUS":
                assert sums[col] == teams[abbr][col], (abbr, col)
    assert {abbr: t["MIN"] for abbr, t in teams.items()} == {"OKC": "265:00", "WAS": "265:00"}
    assert {abbr: t["PTS"] for abbr, t in teams.items()} == {"OKC": 126, "WAS": 115}


def test_player_minutes_sum_to_team_minutes() -> None:
    seconds: Counter[str] = Counter()
    for row in rg.player_stats():
        mins, secs = row["MIN"].split(":")
        seconds[row["TEAM_ABBREVIATION"]] += int(mins) * 60 + int(secs)
    # The NBA's own numbers: OKC's players add up to 264:59 (per-player seconds are rounded).
    assert dict(seconds) == {"OKC": 265 * 60 - 1, "WAS": 265 * 60}


def test_shot_chart_has_one_row_per_box_fga() -> None:
    shots = rg.shots()
    assert len(rg.shot_chart()) == len(shots) == 95 + 98
    for p in rg.expected_players().values():
        mine = [s for s in shots if s.shooter == p.name]
        assert len(mine) == p.box["FGA"], p.name
        assert sum(s.made for s in mine) == p.box["FGM"], p.name
        assert sum(s.is_three for s in mine) == p.box["FG3A"], p.name
        assert sum(s.made and s.is_three for s in mine) == p.box["FG3M"], p.name


def test_play_by_play_matches_box() -> None:
    """Free throws, blocks and assists of the play-by-play add up to the box score."""
    fta: Counter[str] = Counter()
    ftm: Counter[str] = Counter()
    for ev in rg.play_by_play():
        if ev["EVENTMSGTYPE"] == 3:
            fta[ev["PLAYER1_NAME"]] += 1
            ftm[ev["PLAYER1_NAME"]] += rg._free_throw_made(ev)
    blocks = Counter(s.blocker for s in rg.shots() if s.blocker)
    assists = Counter(s.assister for s in rg.shots() if s.assister)
    for p in rg.expected_players().values():
        assert fta[p.name] == p.box["FTA"], p.name
        assert ftm[p.name] == p.box["FTM"], p.name
        assert blocks[p.name] == p.box["BLK"], p.name
        assert assists[p.name] == p.box["AST"], p.name
        assert p.assisted_fg_makes + p.unassisted_fg_makes == p.box["FGM"], p.name
    and_ones = {p.name: p.and1_count for p in rg.expected_players().values() if p.and1_count}
    assert and_ones == {"Enes Kanter": 1, "Russell Westbrook": 1, "Bradley Beal": 1}


def test_player_lookup_rule() -> None:
    assert rg.player_lookup("LeBron James") == "lebronjames"
    assert rg.player_lookup("P.J. Tucker") == "pjtucker"
    assert rg.player_lookup("José Alvarado") == "josealvarado"
    assert rg.player_lookup("Karl-Anthony Towns") == "karlanthonytowns"
    assert rg.player_lookup("Michael Porter Jr.") == "michaelporterjr"
    assert rg.player_lookup("Otto Porter Jr.") == "ottoporterjr"


def test_minutes_and_status_rules() -> None:
    assert rg.parse_minutes("36:42") == Decimal("36.7")
    assert rg.parse_minutes("31:03") == Decimal("31.1")  # exactly .05: half up
    assert rg.parse_minutes("265:00") == Decimal("265.0")
    assert rg.parse_minutes(None) is None
    assert rg.player_status({"MIN": "12:13", "COMMENT": ""}) == "active"
    assert rg.player_status({"MIN": None, "COMMENT": "DNP - Coach's Decision"}) == "dnp"
    assert rg.player_status({"MIN": None, "COMMENT": "NWT - Not With Team"}) == "inactive"


def test_zone_rules_against_nba_labels() -> None:
    """The coordinate rule agrees with the NBA's areas on >= 99% of shots; legacy is worse."""
    geo, dist = rg.agreement("court_geometry"), rg.agreement("distance")
    print(f"\n{rg.summary()}")
    assert geo.total == dist.total == 193
    assert geo.pct >= 99.0
    assert dist.pct < geo.pct
    # The one disagreement: Morrow's 22-ft corner jumper, scored a 2 (box FG3A 7) but labelled
    # 'Right Corner 3' by the shot chart; the project trusts the 2PT label, like the box score.
    assert [d[:2] for d in geo.disagreements] == [(77, "Anthony Morrow")]


def test_raw_tables_follow_contract(tmp_path: Path) -> None:
    for variant in ("bigdataball", "nbac"):
        paths = rg.write_raw_tables(tmp_path / variant, variant)
        assert set(paths) == set(rg.contract_columns())
        for name, path in paths.items():
            schema = pq.read_schema(path)
            assert schema.names == list(rg.contract_columns()[name]), name
            assert schema.equals(rg.arrow_schema(name)), name
    counts = {
        (v, p.stem): pq.read_metadata(p).num_rows
        for v in ("bigdataball", "nbac")
        for p in (tmp_path / v).glob("*.parquet")
    }
    assert counts[("bigdataball", "nbac_gamebook_player_stats")] == 19
    assert counts[("bigdataball", "nbac_team_boxscore")] == 2
    assert counts[("bigdataball", "nbac_schedule")] == 1
    assert counts[("bigdataball", "bdl_player_boxscores")] == 0
    assert counts[("nbac", "bigdataball_play_by_play")] == 0
    assert counts[("bigdataball", "bigdataball_play_by_play")] > 500
    bdb = pq.read_table(tmp_path / "bigdataball" / "bigdataball_play_by_play.parquet").to_pylist()
    shots = [r for r in bdb if r["event_type"] == "shot"]
    fts = [r for r in bdb if r["event_type"] == "free throw"]
    assert len(shots) == 193 and len(fts) == 57
    assert sum(r["event_subtype"] == "free throw 1/1" for r in fts) == 3
    assert Counter(r["player_2_role"] for r in shots if r["player_2_role"]) == {
        "assist": 53,
        "block": 7,
    }
    nbac = pq.read_table(tmp_path / "nbac" / "nbac_play_by_play.parquet").to_pylist()
    assert Counter(r["event_type"] for r in nbac if r["event_type"] in ("2pt", "3pt")) == {
        "2pt": 135,
        "3pt": 58,
    }
    sched = pq.read_table(tmp_path / "nbac" / "nbac_schedule.parquet").to_pylist()[0]
    assert (sched["game_id"], sched["home_team_tricode"], sched["away_team_tricode"]) == (
        "0021600270",
        "OKC",
        "WAS",
    )
