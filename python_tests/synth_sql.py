"""Reading generated raw data in the synthetic-data tests: DuckDB views and shared SQL.

connect(raw) gives an in-memory DuckDB with, per raw table, `<table>_raw` (the file as
written) and `<table>` (the latest processed_at per logical key, as staging keeps it), plus
`gamebook`, `bdb` and `bdb_fixed` (BigDataBall with each actor's box-score lookup).

A player's identity across sources is `ident(lookup)`: the lookup normalised as the models do
(diacritics stripped, lower case, [a-z0-9] only, numeric NBA-id prefix removed) and without a
generational suffix. Base names are unique among the generated players, so within one game
`ident` is the player, whatever drift a source carries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

KEYS = {
    "nbac_gamebook_player_stats": "game_id, player_lookup",
    "bdl_player_boxscores": "game_id, player_lookup",
    "bigdataball_play_by_play": "game_id, event_id",
    "nbac_play_by_play": "game_id, event_id",
    "nbac_team_boxscore": "game_id, team_abbr",
    "nbac_schedule": "game_id, game_status",
}
MACROS = (
    """create macro norm(l) as regexp_replace(regexp_replace(
           lower(strip_accents(l)), '[^a-z0-9]', '', 'g'), '^[0-9]+', '')""",
    "create macro ident(l) as regexp_replace(norm(l), '(jr|sr|ii|iii|iv)$', '')",
)
# BigDataBall's actor with the lookup the box scores use for him (the gamebook's, else BDL's):
# same game, same team, same identity
BDB_FIX = """
    with box as (
        select game_id, team_abbr, player_lookup, 0 as pri from gamebook
        where team_abbr is not null
        union all
        select game_id, team_abbr, player_lookup, 1 from bdl_player_boxscores)
    select p.* replace (coalesce(
        (select arg_min(box.player_lookup, box.pri) from box
         where box.game_id = p.game_id and box.team_abbr = p.player_1_team_abbr
           and ident(box.player_lookup) = ident(p.player_1_lookup)),
        p.player_1_lookup) as player_1_lookup)
    from bdb p
"""
# every named player of a play-by-play row, with the team the row says they play for:
# (game, lookup as written, team, table); BigDataBall's second player is a teammate of the
# first for assists and substitutions, an opponent otherwise (block, steal, fouled, jump ball)
PBP_ACTORS = """
    with bdb_rows as (
        select game_id, player_1_lookup, player_1_team_abbr, player_2_lookup, player_2_role,
               case when player_1_team_abbr = split_part(game_id, '_', 2)
                    then split_part(game_id, '_', 3) else split_part(game_id, '_', 2)
               end as opponent
        from bdb),
    nba_rows as (
        select game_id, player_1_lookup, player_1_team_abbr, player_2_lookup, player_3_lookup,
               case when player_1_team_abbr = split_part(game_id, '_', 2)
                    then split_part(game_id, '_', 3) else split_part(game_id, '_', 2)
               end as opponent
        from nbac_play_by_play)
    select game_id, player_1_lookup as lookup, player_1_team_abbr as team, 'bdb' as src
    from bdb_rows where player_1_lookup is not null
    union all
    select game_id, player_2_lookup,
           case when player_2_role in ('assist', 'substitution_in') then player_1_team_abbr
                else opponent end,
           'bdb ' || player_2_role
    from bdb_rows where player_2_lookup is not null
    union all
    select game_id, player_1_lookup, player_1_team_abbr, 'nbac player_1'
    from nba_rows where player_1_lookup is not null
    union all
    select game_id, player_2_lookup, player_1_team_abbr, 'nbac assist'
    from nba_rows where player_2_lookup is not null
    union all
    select game_id, player_3_lookup, opponent, 'nbac block'
    from nba_rows where player_3_lookup is not null
"""
# players of each game's box score (a played player's gamebook row may be missing: BDL has it)
BOX_PLAYERS = """
    select game_id, team_abbr, player_lookup from gamebook where team_abbr is not null
    union
    select game_id, team_abbr, player_lookup from bdl_player_boxscores
"""
# per source of play-by-play actors: (source, actors, actors who are no player of the game)
UNMATCHED_PBP_ACTORS = f"""
    with actors as (
        select game_id, team, src, lookup, count(*) n from ({PBP_ACTORS}) group by all),
    box as ({BOX_PLAYERS}),
    matched as (
        select distinct a.game_id, a.team, a.src, a.lookup
        from actors a join box b
          on b.game_id = a.game_id and b.team_abbr = a.team
         and ident(b.player_lookup) = ident(a.lookup))
    select src, sum(n), coalesce(sum(n) filter (where m.lookup is null), 0)
    from actors a left join matched m using (game_id, team, src, lookup)
    group by 1 order by 1
"""


def connect(raw: Path) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB over the Parquet files of `raw` (see the module docstring)."""
    con = duckdb.connect()
    for macro in MACROS:
        con.execute(macro)
    for table, key in KEYS.items():
        path = str(raw / f"{table}.parquet")
        con.execute(f"create view {table}_raw as select * from read_parquet('{path}')")
        con.execute(
            f"create view {table} as select * exclude (rn) from (select *, row_number() over "
            f"(partition by {key} order by processed_at desc) as rn from {table}_raw) where rn = 1"
        )
    con.execute("create view gamebook as select * from nbac_gamebook_player_stats")
    con.execute("create view bdb as select * from bigdataball_play_by_play")
    con.execute(f"create view bdb_fixed as {BDB_FIX}")
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The single row of `sql`."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return tuple(row)
