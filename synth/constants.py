"""The synthetic league's constants: teams, names, event codes, rates, reasons."""

from __future__ import annotations

import numpy as np


def _words(text: str) -> list[str]:
    return text.split()


TEAMS = [
    "ATL",
    "BOS",
    "BKN",
    "CHA",
    "CHI",
    "CLE",
    "DAL",
    "DEN",
    "DET",
    "GSW",
    "HOU",
    "IND",
    "LAC",
    "LAL",
    "MEM",
    "MIA",
    "MIL",
    "MIN",
    "NOP",
    "NYK",
    "OKC",
    "ORL",
    "PHI",
    "PHX",
    "POR",
    "SAC",
    "SAS",
    "TOR",
    "UTA",
    "WAS",
]
EAST = frozenset(
    [
        "ATL",
        "BOS",
        "BKN",
        "CHA",
        "CHI",
        "CLE",
        "DET",
        "IND",
        "MIA",
        "MIL",
        "NYK",
        "ORL",
        "PHI",
        "TOR",
        "WAS",
    ]
)
N_TEAMS = 30
ROSTER = 19  # season roster slots per team: 0-16 ordered by quality, 17-18 two-way
FIRST_SEASON, LAST_SEASON = 1990, 2040
POOL_SIZE = 9000
REG_LEN = 2880  # regulation seconds
OT_LEN = 300

# random streams (first words of the seed sequence)
S_POOL, S_ROSTER, S_SEASON, S_WEEK = 11, 12, 13, 14
# messiness added later draws from its own streams, so the games and the older faults stay
# identical: identity drift (per player), row faults (per season and week), corrections
# (per season)
S_DRIFT, S_ROW_FAULTS, S_CORRECTION = 15, 16, 17

# the source that writes a player-game with the player's alternative identity (0: none)
ID_GAMEBOOK, ID_BDL, ID_NBAC_PBP = 1, 2, 3

FIRST_NAMES = _words(
    "James Michael Chris Anthony Kevin Stephen Jalen Jaylen Jayson Tyrese Devin Donovan "
    "Damian Trae Luka Nikola Joel Giannis Karl-Anthony Zion Ja De'Aaron Darius Dejounte "
    "Bam Jimmy Kyle Fred Pascal Scottie Josh Jordan Brandon Marcus Terry Tyler Cameron "
    "Mikal Jrue Khris Bobby Brook Aaron Gary Miles Myles Andrew Cade Jaden Jabari Paolo "
    "Evan Franz Alperen Dāvis Théo Ömer Goran Bogdan Bojan Jusuf Domantas Jonas Dennis "
    "Kristaps José Dário Vasilije Jokūbas Killian Nicolas Rudy Mouhamed Usman Santi "
    "Keegan Malik Herbert Immanuel Isaiah Jarrett Derrick Dillon Desmond Royce Russell "
    "Shai Kawhi Paul DeMar Zach Lonzo Tari OG Precious Onyeka Chet Victor Walker Anfernee "
    "Kentavious Caleb Cody Dyson Grayson Harrison Jaxson Kelly Lauri Max Naz Obi Quentin "
    "Reggie Saddiq Tre Wendell Xavier Yuta Ziaire Ayo Bennedict Cole Day'Ron Eric "
    "Garrison P.J. C.J. T.J. R.J. A.J. D.J. O.G. J.J. "
)
LAST_NAMES = _words(
    "Johnson Williams Brown Jones Miller Davis Wilson Anderson Thomas Taylor Moore "
    "Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen "
    "King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter "
    "Phillips Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers "
    "Morgan Cooper Peterson Reed Bailey Bell Howard Ward Cox Richardson Wood Watson "
    "Brooks Bennett Gray James Hayes Myers Ford Hamilton Graham Sullivan Wallace West "
    "Cole Jordan Reynolds Ellis Jokić Dončić Nurkić Valančiūnas Porziņģis Schröder "
    "Antetokounmpo Šarić Bogdanović Vučević Bertāns Dēmanis Sengün Şengün Hernangómez "
    "Calderón Alvarado Barrios Garza Nikolić Jović Micić Bitadze Žižić Kleber Lessort "
    "Théodore Fernández Müller Krejčí Gilgeous-Alexander Caldwell-Pope Horton-Tucker "
    "Towns Lowry Hardaway Porter Payton Jaquez Hachimura Kuminga Wembanyama Holmgren "
    "Banchero Cunningham Mobley Ivey Sochan Achiuwa Agbaji Okongwu Okoro Onuaku Toppin "
    "Tillman Washington Huerter Herro Haliburton Maxey Quickley Ingram McCollum Murray "
    "Poole Kispert Vassell Gafford Hunter Bridges Claxton Bamba Fultz Suggs Wagner "
    "Anunoby Barnes Siakam Trent Flynn Boucher Poeltl Markkanen Sexton Clarkson Kessler "
    "Olynyk Beasley Vanderbilt Reaves Hachimura Russell Christie Vincent Prince Kleber "
    "Exum Hardy Lively Gafford Dinwiddie Irving Doncic Tatum Holiday Horford Brogdon "
    "Hauser Kornet Pritchard Tillman O'Neale DiVincenzo Hart Brunson Randle Robinson "
    "McBride Sims Grimes Quickley Barrett Ntilikina Bogut "
)
SUFFIXES = ("Jr.", "II", "III", "IV", "Sr.")

# --------------------------------------------------------------------------- codes

# BigDataBall event types (index = code)
ETYPES = (
    "shot",
    "free throw",
    "rebound",
    "foul",
    "turnover",
    "substitution",
    "timeout",
    "jump ball",
    "start of period",
    "end of period",
    "violation",
)
E_SHOT, E_FT, E_REB, E_FOUL, E_TOV, E_SUB, E_TO, E_JUMP, E_START, E_END, E_VIOL = range(11)
NBA_ETYPES = (
    "2pt",
    "3pt",
    "freethrow",
    "rebound",
    "foul",
    "turnover",
    "substitution",
    "timeout",
    "jumpball",
    "period",
    "violation",
    "block",
    "steal",
)
ROLES = ("assist", "block", "steal", "substitution_in", "fouled", "jump_ball")
R_AST, R_BLK, R_STL, R_SUBIN, R_FOULED, R_JUMP = range(6)
SHOT_TYPES = ("2PT", "3PT", "FT")

# zones: 0 restricted area, 1 paint (non-RA), 2 mid-range, 3 corner 3, 4 above the break 3,
# 5 backcourt
ZONE_SUBTYPES: tuple[tuple[tuple[str, float], ...], ...] = (
    (("layup", 0.28), ("driving layup", 0.32), ("dunk", 0.22), ("alley oop dunk", 0.06),
     ("tip layup shot", 0.05), ("cutting layup", 0.07)),
    (("floating jump shot", 0.33), ("hook shot", 0.25), ("jump shot", 0.17),
     ("driving floating jump shot", 0.15), ("turnaround hook shot", 0.10)),
    (("jump shot", 0.45), ("pullup jump shot", 0.30), ("turnaround fadeaway", 0.12),
     ("step back jump shot", 0.13)),
    (("3pt jump shot", 0.70), ("3pt pullup jump shot", 0.15), ("3pt step back jump shot", 0.15)),
    (("3pt jump shot", 0.60), ("3pt pullup jump shot", 0.22), ("3pt step back jump shot", 0.12),
     ("3pt running jump shot", 0.06)),
    (("3pt jump shot", 1.0),),
)  # fmt: skip
FT_SUBTYPES = ("free throw 1/2", "free throw 2/2", "free throw 1/1")
REB_SUBTYPES = ("offensive", "defensive")
FOUL_SUBTYPES = ("shooting", "personal", "loose ball", "personal take")
TOV_SUBTYPES = ("bad pass", "lost ball", "traveling", "out of bounds lost ball", "shot clock")
VIOL_SUBTYPES = ("kicked ball", "lane", "delay of game", "defensive goaltending violation")
TIMEOUT_SUBTYPES = ("regular", "full timeout")


def _build_subtypes() -> tuple[list[str], dict[str, int]]:
    names: list[str] = []
    for zone in ZONE_SUBTYPES:
        names += [n for n, _ in zone]
    names += [*FT_SUBTYPES, *REB_SUBTYPES, *FOUL_SUBTYPES, *TOV_SUBTYPES, *VIOL_SUBTYPES]
    names += list(TIMEOUT_SUBTYPES)
    uniq = list(dict.fromkeys(names))
    return uniq, {n: i for i, n in enumerate(uniq)}


SUBTYPES, SUB_CODE = _build_subtypes()

MAKE_P = np.array([0.63, 0.43, 0.41, 0.385, 0.355, 0.03])
BLOCK_P = np.array([0.22, 0.15, 0.08, 0.05, 0.05, 0.0])
AND1_P = np.array([0.085, 0.05, 0.02, 0.008, 0.008, 0.0])
ASSIST_P = np.array([0.56, 0.50, 0.42, 0.90, 0.84, 0.0])
MINUTE_BASE = np.array([34, 33, 32, 31, 30, 24, 22, 20, 15, 12, 8, 6, 5, 4, 4, 4, 4, 4, 4.0])

DNP_REASONS = (
    ("DNP - Coach's Decision", 0.86),
    ("DNP - Injury/Illness - Left Knee; Soreness", 0.04),
    ("DNP - Injury/Illness - Right Ankle; Sprain", 0.03),
    ("DNP - Rest", 0.04),
    ("DNP - Load Management", 0.03),
)
INJURY_REASONS = (
    ("Injury/Illness - Lumbar; Disc Bulge", 0.10),
    ("Injury/Illness - Right Ankle; Sprain", 0.18),
    ("Injury/Illness - Left Knee; Soreness", 0.14),
    ("DNP - Injury/Illness - Left Knee; Soreness", 0.06),
    ("Injury/Illness - Left Hamstring; Strain", 0.12),
    ("Injury/Illness - Right Foot; Plantar Fasciitis", 0.07),
    ("Injury/Illness - Illness; Non-COVID", 0.08),
    ("Injury/Illness - Right Shoulder; Surgery", 0.05),
    ("Injury/Illness - Left Knee; Injury Management", 0.06),
    ("NWT - Health and Safety Protocols", 0.06),
    ("NWT - Not With Team", 0.04),
    ("Personal", 0.02),
    ("Rest", 0.01),
    ("Load Management", 0.01),
)
TWO_WAY_REASONS = (("G League - Two-Way", 0.85), ("G League - On Assignment", 0.15))
OTHER_INACTIVE = (("NWT - Not With Team", 0.3), ("Personal", 0.3), ("Rest", 0.25),
                  ("NWT - Personal Reasons", 0.15))  # fmt: skip
REASONS = list(
    dict.fromkeys(n for grp in (DNP_REASONS, INJURY_REASONS, TWO_WAY_REASONS, OTHER_INACTIVE)
                  for n, _ in grp)
)  # fmt: skip
REASON_CODE = {n: i for i, n in enumerate(REASONS)}
STATUSES = ("active", "dnp", "inactive")

# per-player stat columns aggregated from events (order matters)
STATS = ("fgm", "fga", "tpm", "tpa", "ftm", "fta", "oreb", "dreb", "ast", "stl", "blk", "tov", "pf")
