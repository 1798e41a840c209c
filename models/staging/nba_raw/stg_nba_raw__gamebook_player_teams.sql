-- The team each player was listed with, by date, over the window widened by var team_hint_days
-- on both sides: fills team_abbr on gamebook rows that lack it (often inactive players).
-- Reading a fixed margin around the window keeps every day's answer the same however the
-- range is chunked.
with source as (
    select * from {{ source('nba_raw', 'nbac_gamebook_player_stats') }}
    where {{ in_window('game_date', days_around=var('team_hint_days', 30)) }}
),

final as (
    select distinct
        {{ normalize_lookup('player_lookup') }} as player_lookup,
        game_date,
        trim(team_abbr) as team_abbr
    from source
    where nullif(trim(team_abbr), '') is not null
        and player_lookup is not null
)

select * from final
