-- The primary box score: latest version of each (game, player), ids and minutes parsed.
with source as (
    select * from {{ source('nba_raw', 'nbac_gamebook_player_stats') }}
    where {{ in_window('game_date') }}
),

normalized as (
    select
        {{ normalize_game_id('game_id', 'home_team_abbr') }} as game_id,
        {{ normalize_lookup('player_lookup') }} as player_lookup,
        game_date,
        season_year,
        home_team_abbr,
        away_team_abbr,
        nullif(trim(team_abbr), '') as team_abbr,
        coalesce(nullif(trim(player_name), ''), nullif(trim(player_name_original), '')) as player_full_name,
        lower(trim(player_status)) as player_status,
        nullif(trim(dnp_reason), '') as dnp_reason,
        minutes as minutes_raw,
        {{ parse_minutes('minutes') }} as minutes_played,
        {{ minutes_parse_status('minutes') }} as minutes_parse_status,
        points,
        field_goals_made,
        field_goals_attempted,
        three_pointers_made,
        three_pointers_attempted,
        free_throws_made,
        free_throws_attempted,
        offensive_rebounds,
        defensive_rebounds,
        total_rebounds,
        assists,
        steals,
        blocks,
        turnovers,
        personal_fouls,
        {{ parse_plus_minus('plus_minus') }} as plus_minus,
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
