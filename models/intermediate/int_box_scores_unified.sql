-- One box-score row per (game, player): the gamebook first; BDL only for player-games the
-- gamebook lacks (never over it). Records which source each row came from. A row without a
-- team (often an inactive player) takes BDL's, else the player's team in his nearest game
-- within var team_hint_days, among the two teams of this game.
with gamebook as (
    select * from {{ ref('stg_nba_raw__gamebook_player_stats') }}
),

bdl as (
    select * from {{ ref('stg_nba_raw__bdl_player_boxscores') }}
),

player_teams as (
    select * from {{ ref('stg_nba_raw__gamebook_player_teams') }}
),

team_hints as (
    select
        gamebook.game_id,
        gamebook.player_lookup,
        player_teams.team_abbr,
        player_teams.game_date,
        abs({{ dbt.datediff('gamebook.game_date', 'player_teams.game_date', 'day') }}) as days_away
    from gamebook
    inner join player_teams
        on gamebook.player_lookup = player_teams.player_lookup
        and player_teams.team_abbr in (
            {{ game_id_away_team('gamebook.game_id') }}, {{ game_id_home_team('gamebook.game_id') }}
        )
    where gamebook.team_abbr is null
),

nearest_team as (
    select
        game_id,
        player_lookup,
        team_abbr
    from (
        select
            team_hints.*,
            row_number() over (
                partition by game_id, player_lookup
                order by days_away, game_date
            ) as hint_rank
        from team_hints
        where days_away <= {{ var('team_hint_days', 30) }}
    ) as ranked
    where hint_rank = 1
),

from_gamebook as (
    select
        gamebook.game_id,
        gamebook.player_lookup,
        gamebook.game_date,
        gamebook.season_year,
        coalesce(gamebook.team_abbr, bdl.team_abbr, nearest_team.team_abbr) as team_abbr,
        coalesce(gamebook.player_full_name, bdl.player_full_name) as player_full_name,
        gamebook.player_status,
        gamebook.dnp_reason,
        gamebook.minutes_played,
        gamebook.minutes_parse_status,
        gamebook.points,
        gamebook.assists,
        gamebook.offensive_rebounds,
        gamebook.defensive_rebounds,
        gamebook.total_rebounds,
        gamebook.steals,
        gamebook.blocks,
        gamebook.turnovers,
        gamebook.personal_fouls,
        gamebook.plus_minus,
        gamebook.field_goals_attempted as fg_attempts,
        gamebook.field_goals_made as fg_makes,
        gamebook.three_pointers_attempted as three_pt_attempts,
        gamebook.three_pointers_made as three_pt_makes,
        gamebook.free_throws_attempted as ft_attempts,
        gamebook.free_throws_made as ft_makes,
        'nbac_gamebook' as primary_source_used
    from gamebook
    left join bdl
        on gamebook.game_id = bdl.game_id
        and gamebook.player_lookup = bdl.player_lookup
    left join nearest_team
        on gamebook.game_id = nearest_team.game_id
        and gamebook.player_lookup = nearest_team.player_lookup
),

from_bdl as (
    select
        bdl.game_id,
        bdl.player_lookup,
        bdl.game_date,
        bdl.season_year,
        bdl.team_abbr,
        bdl.player_full_name,
        case when bdl.minutes_played > 0 then 'active' else 'dnp' end as player_status,
        cast(null as {{ dbt.type_string() }}) as dnp_reason,
        bdl.minutes_played,
        bdl.minutes_parse_status,
        bdl.points,
        bdl.assists,
        cast(null as {{ dbt.type_bigint() }}) as offensive_rebounds,
        cast(null as {{ dbt.type_bigint() }}) as defensive_rebounds,
        bdl.total_rebounds,
        bdl.steals,
        bdl.blocks,
        bdl.turnovers,
        bdl.personal_fouls,
        cast(null as {{ dbt.type_bigint() }}) as plus_minus,
        bdl.field_goals_attempted as fg_attempts,
        bdl.field_goals_made as fg_makes,
        bdl.three_pointers_attempted as three_pt_attempts,
        bdl.three_pointers_made as three_pt_makes,
        bdl.free_throws_attempted as ft_attempts,
        bdl.free_throws_made as ft_makes,
        'bdl_boxscores' as primary_source_used
    from bdl
    where not exists (
            select 1
            from gamebook
            where gamebook.game_id = bdl.game_id
                and gamebook.player_lookup = bdl.player_lookup
        )
),

final as (
    select * from from_gamebook
    union all
    select * from from_bdl
)

select * from final
