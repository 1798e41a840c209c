-- The schedule: the latest, highest-status version of each game, with the standard game id.
with source as (
    select * from {{ source('nba_raw', 'nbac_schedule') }}
    where {{ in_window('game_date') }}
),

latest as (
    {{ latest_schedule_version('source') }}
),

final as (
    select
        {{ standard_game_id('game_date', 'away_team_tricode', 'home_team_tricode') }} as game_id,
        game_id as nba_game_id,
        game_date,
        season_year,
        season_type,
        home_team_tricode as home_team_abbr,
        away_team_tricode as away_team_abbr,
        game_status,
        game_status = 3 as is_final,
        home_team_score,
        away_team_score,
        processed_at
    from latest
)

select * from final
