{#- Write-audit-publish, step 1 (write + audit): the mart's rows for the build window,
    built here first, in schema nba_audit. The validation tests (models/marts/_marts__models.yml)
    run on this relation; `dbt build` runs player_game_summary, the publish step, only when
    none of them fails at error level. The relation keeps a failed window's rows for
    inspection until that window is built again (docs/validation.md, "Write-audit-publish").
    Same strategy and partitioning as the mart: on BigQuery parallel chunks write disjoint
    game_date partitions (static, from the window at run time), on DuckDB window_replace. -#}
{{
    config(
        materialized='incremental',
        schema='nba_audit',
        incremental_strategy=('insert_overwrite' if target.type == 'bigquery' else 'window_replace'),
        partition_by=(
            {'field': 'game_date', 'data_type': 'date', 'granularity': 'day'}
            if target.type == 'bigquery' else none
        ),
        on_schema_change='fail',
    )
}}

{%- set zone_count_columns = [
    'paint_attempts', 'paint_makes', 'mid_range_attempts', 'mid_range_makes',
    'three_attempts_pbp', 'three_makes_pbp', 'assisted_fg_makes', 'unassisted_fg_makes',
    'and1_count', 'paint_blocks', 'mid_range_blocks', 'three_pt_blocks',
] %}

-- One row per player per game: box score, decimal minutes, shot zones from the game's
-- play-by-play, usage and shooting efficiency. Builds any window in one set-based pass.
with box as (
    select * from {{ ref('int_box_scores_unified') }}
),

zones as (
    select * from {{ ref('int_player_shot_zones') }}
),

-- The games with play-by-play, and the source chosen for each.
game_sources as (
    select distinct
        game_id,
        shot_zone_source
    from zones
),

team_totals as (
    select * from {{ ref('int_team_game_totals') }}
),

joined as (
    select
        box.*,
        coalesce(game_sources.shot_zone_source, 'none') as shot_zone_source,
        coalesce(game_sources.shot_zone_source, 'none') != 'none' as has_pbp,
        {%- for column in zone_count_columns + ['unclassified_attempts', 'distance_rule_shots'] %}
        zones.{{ column }} as zone_{{ column }},
        {%- endfor %}
        zones.player_lookup is not null as in_pbp,
        zones.identity_suffix_matches as pbp_identity_suffix_matches,
        team_totals.team_minutes,
        team_totals.team_fg_attempts,
        team_totals.team_ft_attempts,
        team_totals.team_turnovers,
        team_totals.points as team_points,
        team_totals.opponent_points
    from box
    left join game_sources
        on box.game_id = game_sources.game_id
    left join zones
        on box.game_id = zones.game_id
        and box.player_lookup = zones.player_lookup
    left join team_totals
        on box.game_id = team_totals.game_id
        and box.team_abbr = team_totals.team_abbr
),

final as (
    select
        -- identity
        player_lookup,
        player_full_name,
        game_id,
        game_date,
        cast(season_year as int64) as season_year,
        team_abbr,
        {{ opponent_team('game_id', 'team_abbr') }} as opponent_team_abbr,
        team_abbr = {{ game_id_home_team('game_id') }} as home_game,

        -- status
        player_status,
        player_status = 'active' as is_active,
        player_status in ('dnp', 'inactive') or coalesce(minutes_played = 0, false) as is_dnp,
        dnp_reason,
        {{ dnp_reason_category('dnp_reason') }} as dnp_reason_category,
        minutes_played,
        minutes_parse_status,

        -- box score
        points,
        assists,
        offensive_rebounds,
        defensive_rebounds,
        total_rebounds,
        steals,
        blocks,
        turnovers,
        personal_fouls,
        plus_minus,
        fg_attempts,
        fg_makes,
        three_pt_attempts,
        three_pt_makes,
        ft_attempts,
        ft_makes,

        -- shot zones: 0, not NULL, for every player with a box score in a game with play-by-play;
        -- NULL without a box score (fg_attempts NULL: nothing to split)
        {%- for column in zone_count_columns %}
        case
            when has_pbp and fg_attempts is not null then cast(coalesce(zone_{{ column }}, 0) as int64)
        end as {{ column }},
        {%- endfor %}
        has_pbp and fg_attempts is not null and coalesce(zone_unclassified_attempts, 0) = 0
            as has_complete_shot_zones,
        shot_zone_source,
        case
            when not has_pbp then null
            when coalesce(zone_distance_rule_shots, 0) > 0 then 'distance'
            else {{ "'distance'" if var('shot_zone_method', 'court_geometry') == 'distance' else "'court_geometry'" }}
        end as shot_zone_method,

        -- derived metrics
        {{ usage_rate('fg_attempts', 'ft_attempts', 'turnovers', 'minutes_played',
            'team_fg_attempts', 'team_ft_attempts', 'team_turnovers', 'team_minutes') }} as usage_rate,
        {{ ts_pct('points', 'fg_attempts', 'ft_attempts') }} as ts_pct,
        {{ efg_pct('fg_makes', 'three_pt_makes', 'fg_attempts') }} as efg_pct,
        coalesce(minutes_played > 20, false) as starter_flag,
        team_points > opponent_points as win_flag,

        -- lineage
        primary_source_used,
        cast({{ dbt.current_timestamp() }} as timestamp) as processed_at,
        -- how the player was recognised in the other sources (macros/rules/identity.sql)
        case
            when bdl_identity_match = 'suffix' or coalesce(pbp_identity_suffix_matches, 0) > 0 then 'suffix'
            when bdl_identity_match = 'exact' or in_pbp then 'exact'
            else 'single_source'
        end as identity_match
    from joined
)

select * from final
