-- One box-score row per (game, player): the gamebook first; BDL only for player-games the
-- gamebook lacks (never over it). The two are matched by the player identity rule
-- (macros/rules/identity.sql: exact lookup, else the suffix-less name within the game and
-- team), so a BDL row of a gamebook player never makes a second row. Records which source each
-- row came from and how its BDL row was matched. A row without a team (often an inactive
-- player) takes BDL's, else the player's team in his nearest game within var team_hint_days,
-- among the two teams of this game (the hint's lookups matched by the same rule).
with gamebook as (
    select * from {{ ref('stg_nba_raw__gamebook_player_stats') }}
),

bdl as (
    select * from {{ ref('stg_nba_raw__bdl_player_boxscores') }}
),

player_teams as (
    select * from {{ ref('stg_nba_raw__gamebook_player_teams') }}
),

-- Which BDL row is which gamebook player.
{{ player_identity_ctes('bdl_identity', 'bdl', 'gamebook') }},

-- Team hints: the lookups the player was listed with in the two teams' games nearby
-- (names that equal his, or his without a suffix), resolved by the identity rule.
teamless as (
    select
        game_id,
        game_date,
        player_lookup,
        cast(null as {{ dbt.type_string() }}) as team_abbr
    from gamebook
    where team_abbr is null
),

teamless_periods as (
    select
        teamless.game_id,
        teamless.game_date,
        teamless.player_lookup,
        {{ team_hint_period('teamless.game_date') }} + nearby.period_offset as listing_period
    from teamless
    cross join (
        select -1 as period_offset
        union all
        select 0 as period_offset
        union all
        select 1 as period_offset
    ) as nearby
),

listings as (
    select
        team_abbr,
        player_lookup,
        game_date,
        {{ team_hint_period('game_date') }} as listing_period
    from player_teams
),

hint_listings as (
    select
        teamless_periods.game_id,
        listings.team_abbr,
        listings.player_lookup,
        listings.game_date,
        abs({{ dbt.datediff('teamless_periods.game_date', 'listings.game_date', 'day') }}) as days_away
    from teamless_periods
    inner join listings
        on {{ lookup_without_suffix('teamless_periods.player_lookup') }}
        = {{ lookup_without_suffix('listings.player_lookup') }}
        and teamless_periods.listing_period = listings.listing_period
        and listings.team_abbr in (
            {{ game_id_away_team('teamless_periods.game_id') }}, {{ game_id_home_team('teamless_periods.game_id') }}
        )
),

hint_roster as (
    select
        game_id,
        team_abbr,
        player_lookup
    from hint_listings
    where days_away <= {{ var('team_hint_days', 30) }}
),

{{ player_identity_ctes('hint_identity', 'teamless', 'hint_roster') }},

nearest_team as (
    select
        game_id,
        player_lookup,
        team_abbr
    from (
        select
            hint_identity.game_id,
            hint_identity.candidate_lookup as player_lookup,
            hint_listings.team_abbr,
            row_number() over (
                partition by hint_identity.game_id, hint_identity.candidate_lookup
                order by hint_listings.days_away, hint_listings.game_date
            ) as hint_rank
        from hint_identity
        inner join hint_listings
            on hint_identity.game_id = hint_listings.game_id
            and hint_identity.player_lookup = hint_listings.player_lookup
        where hint_listings.days_away <= {{ var('team_hint_days', 30) }}
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
        'nbac_gamebook' as primary_source_used,
        bdl_identity.identity_match as bdl_identity_match
    from gamebook
    left join bdl_identity
        on gamebook.game_id = bdl_identity.game_id
        and gamebook.player_lookup = bdl_identity.player_lookup
    left join bdl
        on bdl_identity.game_id = bdl.game_id
        and bdl_identity.candidate_lookup = bdl.player_lookup
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
        'bdl_boxscores' as primary_source_used,
        cast(null as {{ dbt.type_string() }}) as bdl_identity_match
    from bdl
    left join bdl_identity
        on bdl.game_id = bdl_identity.game_id
        and bdl.player_lookup = bdl_identity.candidate_lookup
    where bdl_identity.candidate_lookup is null
),

final as (
    select * from from_gamebook
    union all
    select * from from_bdl
)

select * from final
