-- Completeness of the mart per game_date: final games in the schedule vs games built, rows,
-- NULL-minutes share, shot-zone coverage (games whose play-by-play is still pending left out,
-- as pgs_shot_zone_coverage does: macros/late_data.sql), the zone source mix, the usage flags and how players
-- were matched across box-score sources (identity_match), each day
-- against the validation bands (dbt_project.yml vars; level 0 pass / 1 warn / 2 error, as the
-- rate checks compute it). A view: filter it on game_date for any window.
-- python -m nba_report reads it.
with schedule_source as (
    select * from {{ source('nba_raw', 'nbac_schedule') }}
),

schedule as (
    {{ latest_schedule_version('schedule_source') }}
),

scheduled_days as (
    select
        game_date,
        count(*) as games_scheduled,
        sum(case when game_status = 3 then 1 else 0 end) as games_scheduled_final
    from schedule
    group by game_date
),

final_games as (
    select
        game_date,
        {{ standard_game_id('game_date', 'away_team_tricode', 'home_team_tricode') }} as game_id
    from schedule
    where game_status = 3
),

mart as (
    select * from {{ ref('player_game_summary') }}
),

built_games as (
    select distinct
        game_date,
        game_id,
        shot_zone_source
    from mart
),

missing_days as (
    select
        final_games.game_date,
        count(*) as games_final_missing
    from final_games
    left join built_games
        on final_games.game_id = built_games.game_id
    where built_games.game_id is null
    group by final_games.game_date
),

game_days as (
    select
        game_date,
        count(*) as games_built,
        sum(case when shot_zone_source = 'bigdataball' then 1 else 0 end) as games_zone_bigdataball,
        sum(case when shot_zone_source = 'nbac_play_by_play' then 1 else 0 end) as games_zone_nbac,
        sum(case when shot_zone_source = 'none' then 1 else 0 end) as games_zone_none,
        sum(case when {{ late_data_pending() }} then 1 else 0 end) as games_zone_pending
    from built_games
    group by game_date
),

row_days as (
    select
        game_date,
        count(*) as row_count,
        sum(case when is_active then 1 else 0 end) as active_rows,
        sum(case when minutes_played is null then 1 else 0 end) as minutes_null_rows,
        -- shot-zone coverage: the population and condition of pgs_shot_zone_coverage (a game
        -- whose play-by-play is still pending is not counted yet; an overdue one is)
        sum(
            case when is_active and minutes_played > 0 and not {{ late_data_pending() }} then 1 else 0 end
        ) as zone_population_rows,
        sum(
            case
                when is_active and minutes_played > 0
                    and has_complete_shot_zones and shot_zone_source != 'none' then 1
                else 0
            end
        ) as zone_covered_rows,
        sum(
            case when usage_rate > {{ var('validation_usage_rate_max') }} then 1 else 0 end
        ) as usage_above_max_rows,
        -- how each row's player was matched across box-score sources
        sum(case when identity_match = 'exact' then 1 else 0 end) as identity_exact_rows,
        sum(case when identity_match = 'suffix' then 1 else 0 end) as identity_suffix_rows,
        sum(
            case when identity_match = 'single_source' then 1 else 0 end
        ) as identity_single_source_rows
    from mart
    group by game_date
),

days as (
    select game_date from scheduled_days
    union distinct
    select game_date from row_days
),

measured as (
    select
        days.game_date,
        coalesce(scheduled_days.games_scheduled, 0) as games_scheduled,
        coalesce(scheduled_days.games_scheduled_final, 0) as games_scheduled_final,
        coalesce(game_days.games_built, 0) as games_built,
        coalesce(missing_days.games_final_missing, 0) as games_final_missing,
        coalesce(row_days.row_count, 0) as row_count,
        coalesce(row_days.active_rows, 0) as active_rows,
        round(
            cast(row_days.row_count as {{ dbt.type_float() }}) / nullif(game_days.games_built, 0), 2
        ) as rows_per_game,
        coalesce(row_days.minutes_null_rows, 0) as minutes_null_rows,
        round(
            100.0 * cast(row_days.minutes_null_rows as {{ dbt.type_float() }})
            / nullif(row_days.row_count, 0),
            2
        ) as minutes_null_pct,
        coalesce(row_days.zone_population_rows, 0) as zone_population_rows,
        coalesce(row_days.zone_covered_rows, 0) as zone_covered_rows,
        round(
            100.0 * cast(row_days.zone_covered_rows as {{ dbt.type_float() }})
            / nullif(row_days.zone_population_rows, 0),
            2
        ) as zone_coverage_pct,
        coalesce(game_days.games_zone_bigdataball, 0) as games_zone_bigdataball,
        coalesce(game_days.games_zone_nbac, 0) as games_zone_nbac,
        coalesce(game_days.games_zone_none, 0) as games_zone_none,
        coalesce(game_days.games_zone_pending, 0) as games_zone_pending,
        coalesce(row_days.usage_above_max_rows, 0) as usage_above_max_rows,
        coalesce(row_days.identity_exact_rows, 0) as identity_exact_rows,
        coalesce(row_days.identity_suffix_rows, 0) as identity_suffix_rows,
        coalesce(row_days.identity_single_source_rows, 0) as identity_single_source_rows
    from days
    left join scheduled_days
        on days.game_date = scheduled_days.game_date
    left join game_days
        on days.game_date = game_days.game_date
    left join missing_days
        on days.game_date = missing_days.game_date
    left join row_days
        on days.game_date = row_days.game_date
),

final as (
    select
        measured.*,
        {{ severity_band_level(
            'minutes_null_pct',
            var('validation_minutes_null_pct_pass_min'),
            var('validation_minutes_null_pct_pass_max'),
            none,
            var('validation_minutes_null_pct_error_max')) }} as minutes_null_level,
        {{ severity_band_level(
            'zone_coverage_pct',
            var('validation_shot_zone_coverage_pct_pass_min'),
            none,
            var('validation_shot_zone_coverage_pct_error_min'),
            none) }} as zone_coverage_level
    from measured
)

select * from final
