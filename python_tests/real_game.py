"""One real NBA game (WAS at OKC, 2016-11-30, NBA game 0021600270, one overtime) as raw tables.

The fixture in python_tests/fixtures/real_game_0021600270/ is the NBA stats service's own box
score, shot charts (with the NBA's zone label SHOT_ZONE_BASIC) and play-by-play. This module
converts it into the raw-table contract (contract/raw_tables.yml) so the project can build the
mart from it, and computes what the NBA itself says (minutes, zone counts by the NBA's labels,
blocks, and-ones, usage with the real 265 team minutes), so tests compare the mart with reality
rather than with a second copy of the project's own logic.

Two variants of the play-by-play:
- "bigdataball": bigdataball_play_by_play and nbac_play_by_play both hold the game (BigDataBall
  must win, domain.md 6.1);
- "nbac": bigdataball_play_by_play is empty, so zones must come from nbac_play_by_play.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from driver.warehouse.contract import ARROW_TYPES

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "real_game_0021600270"
CONTRACT_FILE = PROJECT_DIR / "contract" / "raw_tables.yml"

NBA_GAME_ID = "0021600270"
GAME_ID = "20161130_WAS_OKC"  # standard id: YYYYMMDD_AWAY_HOME
GAME_DATE = date(2016, 11, 30)
SEASON_YEAR = 2016
HOME_TEAM = "OKC"
AWAY_TEAM = "WAS"
TEAM_MINUTES = 265  # 240 + one 25-minute overtime (5 players x 5 minutes)
PROCESSED_AT = datetime(2016, 12, 2, 12, 0, tzinfo=UTC)

Variant = Literal["bigdataball", "nbac"]
Zone = Literal["paint", "mid_range", "three"]
ZONES: tuple[Zone, ...] = ("paint", "mid_range", "three")

# The NBA's SHOT_ZONE_BASIC labels grouped into the project's zones (domain.md 6.2).
NBA_ZONE_OF_LABEL: dict[str, Zone] = {
    "Restricted Area": "paint",
    "In The Paint (Non-RA)": "paint",
    "Mid-Range": "mid_range",
    "Left Corner 3": "three",
    "Right Corner 3": "three",
    "Above the Break 3": "three",
    "Backcourt": "three",
}

# EVENTMSGTYPE -> BigDataBall event_type / NBA.com actionType (non-shot events). BigDataBall's
# vocabulary (domain.md 3.3) has no ejection / instant-replay events: those rows are left out.
BDB_EVENT_TYPES: dict[int, str] = {
    1: "shot",
    2: "shot",
    3: "free throw",
    4: "rebound",
    5: "turnover",
    6: "foul",
    7: "violation",
    8: "substitution",
    9: "timeout",
    10: "jump ball",
    12: "start of period",
    13: "end of period",
}
NBAC_EVENT_TYPES: dict[int, str] = {
    3: "freethrow",
    4: "rebound",
    5: "turnover",
    6: "foul",
    7: "violation",
    8: "substitution",
    9: "timeout",
    10: "jumpball",
    11: "ejection",
    12: "period",
    13: "period",
    18: "instantreplay",
}
# EVENTMSGACTIONTYPE of a free throw -> (BigDataBall subtype, NBA.com subType).
FREE_THROW_SUBTYPES: dict[int, tuple[str, str]] = {
    10: ("free throw 1/1", "Free Throw 1 of 1"),
    11: ("free throw 1/2", "Free Throw 1 of 2"),
    12: ("free throw 2/2", "Free Throw 2 of 2"),
    13: ("free throw 1/3", "Free Throw 1 of 3"),
    14: ("free throw 2/3", "Free Throw 2 of 3"),
    15: ("free throw 3/3", "Free Throw 3 of 3"),
    16: ("free throw technical", "Free Throw Technical"),
}


# --------------------------------------------------------------------------------------
# Reading the NBA files
# --------------------------------------------------------------------------------------


def result_set(file_name: str, name: str) -> list[dict[str, Any]]:
    """One resultSet of a fixture file as a list of dicts (header -> value)."""
    with open(FIXTURE_DIR / file_name) as fh:
        payload = json.load(fh)
    for rs in payload["resultSets"]:
        if rs["name"] == name:
            return [dict(zip(rs["headers"], row, strict=True)) for row in rs["rowSet"]]
    raise KeyError(f"{file_name} has no resultSet {name!r}")


@cache
def player_stats() -> tuple[dict[str, Any], ...]:
    return tuple(result_set(f"stats_boxscore_{NBA_GAME_ID}.json", "PlayerStats"))


@cache
def team_stats() -> dict[str, dict[str, Any]]:
    rows = result_set(f"stats_boxscore_{NBA_GAME_ID}.json", "TeamStats")
    return {row["TEAM_ABBREVIATION"]: row for row in rows}


@cache
def play_by_play() -> tuple[dict[str, Any], ...]:
    return tuple(result_set(f"stats_playbyplay_{NBA_GAME_ID}.json", "PlayByPlay"))


@cache
def shot_chart() -> dict[int, dict[str, Any]]:
    """Shot chart rows of both teams by GAME_EVENT_ID (= EVENTNUM in the play-by-play)."""
    out: dict[int, dict[str, Any]] = {}
    for side in ("home", "away"):
        for row in result_set(f"stats_{side}_shots_{NBA_GAME_ID}.json", "Shot_Chart_Detail"):
            out[int(row["GAME_EVENT_ID"])] = row
    return out


# --------------------------------------------------------------------------------------
# Rules (domain.md), written independently of the SQL
# --------------------------------------------------------------------------------------


def player_lookup(name: str | None) -> str | None:
    """NFKC, strip diacritics, casefold, keep [a-z0-9] (domain.md 2)."""
    if not name:
        return None
    text = unicodedata.normalize("NFKC", name)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    key = re.sub(r"[^a-z0-9]", "", text.casefold())
    return key or None


def parse_minutes(value: str | None) -> Decimal | None:
    """'36:42' -> 36.7 (1 dp, half up); None for a missing value."""
    if not value:
        return None
    match = re.fullmatch(r"(\d+):([0-5]\d)", value.strip())
    if not match:
        raise ValueError(f"unexpected minutes string {value!r}")
    total = Decimal(int(match.group(1)) * 60 + int(match.group(2))) / Decimal(60)
    return total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def minutes_exact(value: str) -> float:
    mins, secs = value.split(":")
    return int(mins) + int(secs) / 60


def _team_of_player(name: str) -> str:
    for row in player_stats():
        if row["PLAYER_NAME"] == name:
            return str(row["TEAM_ABBREVIATION"])
    raise KeyError(name)


@dataclass(frozen=True)
class Shot:
    """One field-goal attempt: the play-by-play event joined to its shot-chart row."""

    event_num: int
    shooter: str
    shooter_team: str
    made: bool
    is_three: bool
    nba_label: str
    distance_ft: float
    loc_x: float
    loc_y: float
    action_type: str
    assister: str | None
    blocker: str | None

    @property
    def nba_zone(self) -> Zone:
        return NBA_ZONE_OF_LABEL[self.nba_label]


@cache
def shots() -> tuple[Shot, ...]:
    chart = shot_chart()
    out: list[Shot] = []
    for ev in play_by_play():
        if ev["EVENTMSGTYPE"] not in (1, 2):
            continue
        row = chart[int(ev["EVENTNUM"])]
        made = ev["EVENTMSGTYPE"] == 1
        out.append(
            Shot(
                event_num=int(ev["EVENTNUM"]),
                shooter=ev["PLAYER1_NAME"],
                shooter_team=ev["PLAYER1_TEAM_ABBREVIATION"],
                made=made,
                is_three=row["SHOT_TYPE"] == "3PT Field Goal",
                nba_label=row["SHOT_ZONE_BASIC"],
                distance_ft=float(row["SHOT_DISTANCE"]),
                loc_x=float(row["LOC_X"]),
                loc_y=float(row["LOC_Y"]),
                action_type=row["ACTION_TYPE"],
                assister=(ev["PLAYER2_NAME"] if made and ev["PLAYER2_ID"] else None),
                blocker=(ev["PLAYER3_NAME"] if not made and ev["PLAYER3_ID"] else None),
            )
        )
    return tuple(out)


def zone_court_geometry(shot: Shot) -> Zone:
    """domain.md 6.2: three if labelled; else paint if |x| <= 80 and y <= 137.5; else mid."""
    if shot.is_three:
        return "three"
    if abs(shot.loc_x) <= 80 and shot.loc_y <= 137.5:
        return "paint"
    return "mid_range"


def zone_distance(shot: Shot) -> Zone:
    """The legacy rule: paint if <= 8 ft; three if labelled or >= 23.75 ft; else mid."""
    if shot.distance_ft <= 8:
        return "paint"
    if shot.is_three or shot.distance_ft >= 23.75:
        return "three"
    return "mid_range"


@dataclass(frozen=True)
class Agreement:
    method: str
    agree: int
    total: int
    disagreements: tuple[tuple[int, str, str, str], ...]  # (event, player, NBA zone, rule zone)

    @property
    def pct(self) -> float:
        return 100.0 * self.agree / self.total


def agreement(method: Literal["court_geometry", "distance"]) -> Agreement:
    """Shot-level agreement of a zone rule with the NBA's SHOT_ZONE_BASIC on this game."""
    rule = zone_court_geometry if method == "court_geometry" else zone_distance
    bad = tuple(
        (s.event_num, s.shooter, s.nba_zone, rule(s)) for s in shots() if rule(s) != s.nba_zone
    )
    total = len(shots())
    return Agreement(method, total - len(bad), total, bad)


# --------------------------------------------------------------------------------------
# What the NBA says, per player
# --------------------------------------------------------------------------------------


@dataclass
class ExpectedPlayer:
    player_lookup: str
    name: str
    team_abbr: str
    status: str
    minutes_raw: str | None
    minutes_played: Decimal | None
    box: dict[str, int]  # FGM, FGA, FG3M, FG3A, FTM, FTA, TO, PTS, BLK, ...
    nba_zone_attempts: Counter[str] = field(default_factory=Counter)
    nba_zone_makes: Counter[str] = field(default_factory=Counter)
    geometry_zone_attempts: Counter[str] = field(default_factory=Counter)
    geometry_zone_makes: Counter[str] = field(default_factory=Counter)
    distance_zone_attempts: Counter[str] = field(default_factory=Counter)
    assisted_fg_makes: int = 0
    unassisted_fg_makes: int = 0
    and1_count: int = 0
    nba_zone_blocks: Counter[str] = field(default_factory=Counter)
    geometry_zone_blocks: Counter[str] = field(default_factory=Counter)

    @property
    def is_home(self) -> bool:
        return self.team_abbr == HOME_TEAM

    @property
    def usage_rate(self) -> float | None:
        """100 * (FGA + 0.44 FTA + TOV) * (265 / 5) / (MIN * team (FGA + 0.44 FTA + TOV)).

        MIN is minutes_played (the 1-dp decimal the mart carries)."""
        if not self.minutes_played:
            return None
        team = team_stats()[self.team_abbr]
        b = self.box
        num = 100 * (b["FGA"] + 0.44 * b["FTA"] + b["TO"]) * (TEAM_MINUTES / 5)
        den = float(self.minutes_played) * (team["FGA"] + 0.44 * team["FTA"] + team["TO"])
        return num / den

    @property
    def ts_pct(self) -> float | None:
        den = 2 * (self.box["FGA"] + 0.44 * self.box["FTA"])
        return self.box["PTS"] / den if den > 0 else None

    @property
    def efg_pct(self) -> float | None:
        fga = self.box["FGA"]
        return (self.box["FGM"] + 0.5 * self.box["FG3M"]) / fga if fga > 0 else None


BOX_COLUMNS = (
    "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
    "AST", "STL", "BLK", "TO", "PF", "PTS", "PLUS_MINUS",
)  # fmt: skip


def player_status(row: dict[str, Any]) -> str:
    """active when MIN is present; dnp when COMMENT starts with 'DNP'; else inactive."""
    if row["MIN"]:
        return "active"
    if (row["COMMENT"] or "").strip().upper().startswith("DNP"):
        return "dnp"
    return "inactive"


@cache
def expected_players() -> dict[str, ExpectedPlayer]:
    """Per player_lookup: the NBA box score plus counts from the NBA's shot labels and pbp."""
    players: dict[str, ExpectedPlayer] = {}
    by_name: dict[str, ExpectedPlayer] = {}
    for row in player_stats():
        lookup = player_lookup(row["PLAYER_NAME"])
        assert lookup is not None
        status = player_status(row)
        box = {c: int(row[c]) for c in BOX_COLUMNS if row[c] is not None}
        p = ExpectedPlayer(
            player_lookup=lookup,
            name=row["PLAYER_NAME"],
            team_abbr=row["TEAM_ABBREVIATION"],
            status=status,
            minutes_raw=row["MIN"] or None,
            minutes_played=parse_minutes(row["MIN"]),
            box=box,
        )
        players[lookup] = p
        by_name[p.name] = p
    for s in shots():
        shooter = by_name[s.shooter]
        shooter.nba_zone_attempts[s.nba_zone] += 1
        shooter.geometry_zone_attempts[zone_court_geometry(s)] += 1
        shooter.distance_zone_attempts[zone_distance(s)] += 1
        if s.made:
            shooter.nba_zone_makes[s.nba_zone] += 1
            shooter.geometry_zone_makes[zone_court_geometry(s)] += 1
            if s.assister:
                shooter.assisted_fg_makes += 1
            else:
                shooter.unassisted_fg_makes += 1
        if s.blocker:
            by_name[s.blocker].nba_zone_blocks[s.nba_zone] += 1
            by_name[s.blocker].geometry_zone_blocks[zone_court_geometry(s)] += 1
    for ev in play_by_play():
        if ev["EVENTMSGTYPE"] == 3 and ev["EVENTMSGACTIONTYPE"] == 10:
            by_name[ev["PLAYER1_NAME"]].and1_count += 1
    return players


# --------------------------------------------------------------------------------------
# Raw tables (contract/raw_tables.yml)
# --------------------------------------------------------------------------------------


@cache
def contract_columns() -> dict[str, dict[str, str]]:
    """table -> {column: BigQuery type} from contract/raw_tables.yml."""
    with open(CONTRACT_FILE) as fh:
        contract = yaml.safe_load(fh)
    return {name: dict(t["columns"]) for name, t in contract["tables"].items()}


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema(
        [pa.field(col, ARROW_TYPES[typ]) for col, typ in contract_columns()[table].items()]
    )


def _description(ev: dict[str, Any]) -> str | None:
    parts = [ev.get(k) for k in ("HOMEDESCRIPTION", "NEUTRALDESCRIPTION", "VISITORDESCRIPTION")]
    text = " | ".join(p for p in parts if p)
    return text or None


def _clock_seconds(clock: str) -> int:
    mins, secs = clock.split(":")
    return int(mins) * 60 + int(secs)


def _elapsed_seconds(period: int, clock: str) -> int:
    if period <= 4:
        return (period - 1) * 720 + 720 - _clock_seconds(clock)
    return 4 * 720 + (period - 5) * 300 + 300 - _clock_seconds(clock)


def gamebook_rows() -> list[dict[str, Any]]:
    rows = []
    for row in player_stats():
        status = player_status(row)
        active = status == "active"
        comment = (row["COMMENT"] or "").strip() or None

        def stat(col: str, active: bool = active, row: dict[str, Any] = row) -> int | None:
            return int(row[col]) if active and row[col] is not None else None

        rows.append(
            {
                "game_id": GAME_ID,
                "game_date": GAME_DATE,
                "season_year": SEASON_YEAR,
                "home_team_abbr": HOME_TEAM,
                "away_team_abbr": AWAY_TEAM,
                "team_abbr": row["TEAM_ABBREVIATION"],
                "player_name": row["PLAYER_NAME"],
                "player_name_original": row["PLAYER_NAME"],
                "player_lookup": player_lookup(row["PLAYER_NAME"]),
                "player_status": status,
                "dnp_reason": None if active else comment,
                "minutes": row["MIN"] if active else None,
                "points": stat("PTS"),
                "field_goals_made": stat("FGM"),
                "field_goals_attempted": stat("FGA"),
                "three_pointers_made": stat("FG3M"),
                "three_pointers_attempted": stat("FG3A"),
                "free_throws_made": stat("FTM"),
                "free_throws_attempted": stat("FTA"),
                "offensive_rebounds": stat("OREB"),
                "defensive_rebounds": stat("DREB"),
                "total_rebounds": stat("REB"),
                "assists": stat("AST"),
                "steals": stat("STL"),
                "blocks": stat("BLK"),
                "turnovers": stat("TO"),
                "personal_fouls": stat("PF"),
                "plus_minus": stat("PLUS_MINUS"),
                "processed_at": PROCESSED_AT,
            }
        )
    return rows


def team_boxscore_rows() -> list[dict[str, Any]]:
    rows = []
    for abbr, t in team_stats().items():
        rows.append(
            {
                "game_id": GAME_ID,
                "game_date": GAME_DATE,
                "season_year": SEASON_YEAR,
                "team_abbr": abbr,
                "is_home": abbr == HOME_TEAM,
                "minutes": t["MIN"],
                "fg_made": t["FGM"],
                "fg_attempted": t["FGA"],
                "three_pt_made": t["FG3M"],
                "three_pt_attempted": t["FG3A"],
                "ft_made": t["FTM"],
                "ft_attempted": t["FTA"],
                "offensive_rebounds": t["OREB"],
                "defensive_rebounds": t["DREB"],
                "total_rebounds": t["REB"],
                "assists": t["AST"],
                "steals": t["STL"],
                "blocks": t["BLK"],
                "turnovers": t["TO"],
                "personal_fouls": t["PF"],
                "points": t["PTS"],
                "processed_at": PROCESSED_AT,
            }
        )
    return rows


def schedule_rows() -> list[dict[str, Any]]:
    teams = team_stats()
    return [
        {
            "game_id": NBA_GAME_ID,
            "game_date": GAME_DATE,
            "season_year": SEASON_YEAR,
            "season_type": "Regular Season",
            "home_team_tricode": HOME_TEAM,
            "away_team_tricode": AWAY_TEAM,
            "game_status": 3,
            "home_team_score": teams[HOME_TEAM]["PTS"],
            "away_team_score": teams[AWAY_TEAM]["PTS"],
            "processed_at": PROCESSED_AT,
        }
    ]


def _free_throw_made(ev: dict[str, Any]) -> bool:
    return "MISS" not in (_description(ev) or "").upper()


def _shot_subtype(action_type: str, is_three: bool) -> str:
    """'Driving Layup Shot' -> 'driving layup'; threes get BigDataBall's '3pt ' prefix."""
    text = re.sub(r"\s+shot$", "", action_type.strip(), flags=re.IGNORECASE).lower()
    return f"3pt {text}" if is_three and "3pt" not in text else text


def bigdataball_rows() -> list[dict[str, Any]]:
    chart = shot_chart()
    rows = []
    events = [ev for ev in play_by_play() if int(ev["EVENTMSGTYPE"]) in BDB_EVENT_TYPES]
    for seq, ev in enumerate(events, start=1):
        msg = int(ev["EVENTMSGTYPE"])
        row: dict[str, Any] = {
            "game_id": GAME_ID,
            "game_date": GAME_DATE,
            "season_year": SEASON_YEAR,
            "event_id": str(ev["EVENTNUM"]),
            "event_sequence": seq,
            "period": int(ev["PERIOD"]),
            "game_clock": ev["PCTIMESTRING"],
            "elapsed_seconds": _elapsed_seconds(int(ev["PERIOD"]), ev["PCTIMESTRING"]),
            "event_type": BDB_EVENT_TYPES[msg],
            "event_subtype": None,
            "event_description": _description(ev),
            "player_1_name": ev["PLAYER1_NAME"],
            "player_1_lookup": player_lookup(ev["PLAYER1_NAME"]),
            "player_1_team_abbr": ev["PLAYER1_TEAM_ABBREVIATION"],
            "player_2_name": None,
            "player_2_lookup": None,
            "player_2_role": None,
            "shot_made": None,
            "shot_type": None,
            "shot_distance": None,
            "points_scored": 0,
            "original_x": None,
            "original_y": None,
            "converted_x": None,
            "converted_y": None,
            "data_source": "bigdataball",
            "processed_at": PROCESSED_AT,
        }
        second: tuple[str | None, str] | None = None
        if msg in (1, 2):
            shot = chart[int(ev["EVENTNUM"])]
            made = msg == 1
            is_three = shot["SHOT_TYPE"] == "3PT Field Goal"
            row.update(
                event_subtype=_shot_subtype(shot["ACTION_TYPE"], is_three),
                shot_made=made,
                shot_type="3PT" if is_three else "2PT",
                shot_distance=float(shot["SHOT_DISTANCE"]),
                points_scored=(3 if is_three else 2) if made else 0,
                original_x=float(shot["LOC_X"]),
                original_y=float(shot["LOC_Y"]),
                converted_x=25 + shot["LOC_X"] / 10,
                converted_y=5.25 + shot["LOC_Y"] / 10,
            )
            if made and ev["PLAYER2_ID"]:
                second = (ev["PLAYER2_NAME"], "assist")
            elif not made and ev["PLAYER3_ID"]:
                second = (ev["PLAYER3_NAME"], "block")
        elif msg == 3:
            made = _free_throw_made(ev)
            action = int(ev["EVENTMSGACTIONTYPE"])
            subtype = FREE_THROW_SUBTYPES.get(action, (f"free throw {action}", ""))[0]
            row.update(
                event_subtype=subtype,
                shot_made=made,
                shot_type="FT",
                points_scored=1 if made else 0,
            )
        elif msg == 5 and ev["PLAYER2_ID"]:
            second = (ev["PLAYER2_NAME"], "steal")
        elif msg == 8 and ev["PLAYER2_ID"]:
            second = (ev["PLAYER2_NAME"], "substitution_in")
        if second is not None:
            row.update(
                player_2_name=second[0],
                player_2_lookup=player_lookup(second[0]),
                player_2_role=second[1],
            )
        rows.append(row)
    return rows


def nbac_rows() -> list[dict[str, Any]]:
    """The same game as NBA.com actions: 2pt / 3pt / freethrow ..., coordinates in feet."""
    chart = shot_chart()
    rows = []
    seq = 0
    for ev in play_by_play():
        msg = int(ev["EVENTMSGTYPE"])
        seq += 1
        row: dict[str, Any] = {
            "game_id": GAME_ID,
            "nba_game_id": NBA_GAME_ID,
            "game_date": GAME_DATE,
            "season_year": SEASON_YEAR,
            "event_id": str(ev["EVENTNUM"]),
            "event_sequence": seq,
            "period": int(ev["PERIOD"]),
            "game_clock": ev["PCTIMESTRING"],
            "event_type": NBAC_EVENT_TYPES.get(msg, "other"),
            "event_action_type": None,
            "event_description": _description(ev),
            "player_1_lookup": player_lookup(ev["PLAYER1_NAME"]),
            "player_1_team_abbr": ev["PLAYER1_TEAM_ABBREVIATION"],
            "player_2_lookup": None,
            "player_3_lookup": None,
            "shot_made": None,
            "shot_type": None,
            "shot_x": None,
            "shot_y": None,
            "shot_distance": None,
            "processed_at": PROCESSED_AT,
        }
        block_row: dict[str, Any] | None = None
        if msg in (1, 2):
            shot = chart[int(ev["EVENTNUM"])]
            made = msg == 1
            is_three = shot["SHOT_TYPE"] == "3PT Field Goal"
            row.update(
                event_type="3pt" if is_three else "2pt",
                event_action_type=shot["ACTION_TYPE"],
                shot_made=made,
                shot_type="3PT" if is_three else "2PT",
                shot_x=25 + shot["LOC_X"] / 10,
                shot_y=5.25 + shot["LOC_Y"] / 10,
                shot_distance=float(shot["SHOT_DISTANCE"]),
                player_2_lookup=player_lookup(ev["PLAYER2_NAME"]) if made else None,
                player_3_lookup=(
                    player_lookup(ev["PLAYER3_NAME"]) if not made and ev["PLAYER3_ID"] else None
                ),
            )
            if row["player_3_lookup"]:
                # NBA.com also logs the block as an action of its own (actionType 'block').
                seq += 1
                block_row = {
                    **row,
                    "event_id": f"{ev['EVENTNUM']}.block",
                    "event_sequence": seq,
                    "event_type": "block",
                    "event_action_type": None,
                    "player_1_lookup": row["player_3_lookup"],
                    "player_1_team_abbr": ev["PLAYER3_TEAM_ABBREVIATION"],
                    "player_2_lookup": None,
                    "player_3_lookup": None,
                    "shot_made": None,
                    "shot_type": None,
                    "shot_x": None,
                    "shot_y": None,
                    "shot_distance": None,
                }
        elif msg == 3:
            action = int(ev["EVENTMSGACTIONTYPE"])
            row.update(
                event_action_type=FREE_THROW_SUBTYPES.get(action, ("", f"Free Throw {action}"))[1],
                shot_made=_free_throw_made(ev),
                shot_type="FT",
            )
        rows.append(row)
        if block_row is not None:
            rows.append(block_row)
    return rows


def raw_tables(variant: Variant = "bigdataball") -> dict[str, list[dict[str, Any]]]:
    """Every contract table for the game; `variant` 'nbac' leaves BigDataBall empty."""
    return {
        "nbac_gamebook_player_stats": gamebook_rows(),
        "bdl_player_boxscores": [],
        "bigdataball_play_by_play": bigdataball_rows() if variant == "bigdataball" else [],
        "nbac_play_by_play": nbac_rows(),
        "nbac_team_boxscore": team_boxscore_rows(),
        "nbac_schedule": schedule_rows(),
    }


def write_raw_tables(out_dir: Path, variant: Variant = "bigdataball") -> dict[str, Path]:
    """Write <out_dir>/<table>.parquet for every contract table; returns table -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = raw_tables(variant)
    missing = set(contract_columns()) - set(tables)
    if missing:
        raise AssertionError(f"contract tables not produced: {sorted(missing)}")
    paths = {}
    for name, rows in tables.items():
        schema = arrow_schema(name)
        columns = {col: [r[col] for r in rows] for col in schema.names}
        table = pa.Table.from_pydict(columns, schema=schema)
        path = out_dir / f"{name}.parquet"
        pq.write_table(table, path)
        paths[name] = path
    return paths


def summary(lines: Iterable[str] | None = None) -> str:
    """A printable summary of the fixture and the two zone rules' agreement with the NBA."""
    geo, dist = agreement("court_geometry"), agreement("distance")
    out = [
        f"game {NBA_GAME_ID} {GAME_ID}: {len(player_stats())} players, {len(shots())} FGA, "
        f"{len(play_by_play())} pbp events",
        f"court_geometry agrees with SHOT_ZONE_BASIC on {geo.agree}/{geo.total} "
        f"({geo.pct:.1f}%): {list(geo.disagreements)}",
        f"distance (legacy) agrees on {dist.agree}/{dist.total} ({dist.pct:.1f}%)",
    ]
    out += list(lines or [])
    return "\n".join(out)


if __name__ == "__main__":
    print(summary())
