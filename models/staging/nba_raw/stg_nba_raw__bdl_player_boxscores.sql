-- The secondary box score (fill-in only): latest version of each (game, player).
-- Minutes come as '35:22', '38' or '00' (did not play: 0.0, not NULL). No plus_minus.
with source as (
    select * from {{ source('nba_raw', 'bdl_player_boxscores') }}
    where {{ in_window('game_date') }}
),

normalized as (
    select
        {{ normalize_game_id('game_id', 'home_team_abbr') }} as game_id,
        {{ normalize_lookup('player_lookup') }} as player_lookup,
        game_date,
        season_year,
        game_status,
        home_team_abbr,
        away_team_abbr,
        nullif(trim(team_abbr), '') as team_abbr,
        nullif(trim(player_full_name), '') as player_full_name,
        minutes as minutes_raw,
        {{ parse_minutes('minutes') }} as minutes_played,
        {{ minutes_parse_status('minutes') }} as minutes_parse_status,
        points,
        assists,
        rebounds as total_rebounds,
        steals,
        blocks,
        turnovers,
        personal_fouls,
        field_goals_made,
        field_goals_attempted,
        three_pointers_made,
        three_pointers_attempted,
        free_throws_made,
        free_throws_attempted,
        processed_at
    from source
),

final as (
    {{ latest_version(
        'normalized', ['game_id', 'player_lookup'],
        where='player_lookup is not null and game_id is not null and game_date is not null'
    ) }}
)

select * from final
