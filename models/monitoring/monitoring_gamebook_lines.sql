-- Each mart row beside the raw gamebook line it came from (the latest version of the
-- player-game in nba_raw.nbac_gamebook_player_stats, matched with the same id rules as the
-- staging view): the raw minutes string next to the parsed decimal minutes, raw and built
-- points and field goals, and the row's shot-zone split. A view over all dates; the quality
-- report (python -m nba_report) samples a few players from it as spot checks.
with gamebook_source as (
    select
        {{ normalize_game_id('game_id', 'home_team_abbr') }} as game_id,
        {{ normalize_lookup('player_lookup') }} as player_lookup,
        game_date,
        player_name as raw_player_name,
        minutes as raw_minutes,
        points as raw_points,
        field_goals_made as raw_fg_makes,
        field_goals_attempted as raw_fg_attempts,
        processed_at
    from {{ source('nba_raw', 'nbac_gamebook_player_stats') }}
    where player_lookup is not null and game_id is not null and game_date is not null
),

gamebook as (
    {{ latest_version('gamebook_source', ['game_id', 'player_lookup']) }}
),

mart as (
    select * from {{ ref('player_game_summary') }}
),

final as (
    select
        mart.game_date,
        mart.game_id,
        mart.player_lookup,
        mart.player_full_name,
        mart.team_abbr,
        mart.player_status,
        mart.primary_source_used,
        gamebook.raw_player_name,
        gamebook.raw_minutes,
        mart.minutes_played,
        mart.minutes_parse_status,
        gamebook.raw_points,
        mart.points,
        gamebook.raw_fg_makes,
        gamebook.raw_fg_attempts,
        mart.fg_makes,
        mart.fg_attempts,
        mart.paint_attempts,
        mart.paint_makes,
        mart.mid_range_attempts,
        mart.mid_range_makes,
        mart.three_attempts_pbp,
        mart.three_makes_pbp,
        mart.has_complete_shot_zones,
        mart.shot_zone_source,
        mart.usage_rate
    from mart
    left join gamebook
        on mart.game_id = gamebook.game_id
        and mart.player_lookup = gamebook.player_lookup
)

select * from final
