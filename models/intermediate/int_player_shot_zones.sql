-- Shot zones per (game, player) from the chosen play-by-play: attempts and makes by zone,
-- assisted / unassisted makes, and-ones, and blocks by the zone of the blocked shot.
-- Every actor of a game with play-by-play gets a row; the mart gives 0s to the rest of the
-- game's players.
with events as (
    select * from {{ ref('int_pbp_events') }}
),

field_goals as (
    select
        game_id,
        shot_zone_source,
        shooter_lookup,
        block_lookup,
        assist_lookup,
        shot_made,
        {{ classify_shot_zone('is_three_label', 'x_tenths', 'y_tenths', 'shot_distance_ft') }} as zone,
        {{ shot_zone_method_used('x_tenths', 'y_tenths') }} as zone_method
    from events
    where event_kind = 'field_goal'
),

-- One row per contribution of a player, summed below.
contributions as (
    select
        game_id,
        shot_zone_source,
        shooter_lookup as player_lookup,
        case when zone = 'paint' then 1 else 0 end as paint_attempts,
        case when zone = 'paint' and shot_made then 1 else 0 end as paint_makes,
        case when zone = 'mid_range' then 1 else 0 end as mid_range_attempts,
        case when zone = 'mid_range' and shot_made then 1 else 0 end as mid_range_makes,
        case when zone = 'three' then 1 else 0 end as three_attempts_pbp,
        case when zone = 'three' and shot_made then 1 else 0 end as three_makes_pbp,
        case when zone is null then 1 else 0 end as unclassified_attempts,
        case when shot_made and assist_lookup is not null then 1 else 0 end as assisted_fg_makes,
        case when shot_made and assist_lookup is null then 1 else 0 end as unassisted_fg_makes,
        case when zone_method = 'distance' then 1 else 0 end as distance_rule_shots,
        0 as and1_count,
        0 as paint_blocks,
        0 as mid_range_blocks,
        0 as three_pt_blocks
    from field_goals
    where shooter_lookup is not null
    union all
    select
        game_id,
        shot_zone_source,
        block_lookup as player_lookup,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        case when zone = 'paint' then 1 else 0 end as paint_blocks,
        case when zone = 'mid_range' then 1 else 0 end as mid_range_blocks,
        case when zone = 'three' then 1 else 0 end as three_pt_blocks
    from field_goals
    where block_lookup is not null and not shot_made
    union all
    select
        game_id,
        shot_zone_source,
        shooter_lookup as player_lookup,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1 as and1_count,
        0, 0, 0
    from events
    where event_kind = 'free_throw' and is_and1_free_throw and shooter_lookup is not null
),

final as (
    select
        game_id,
        player_lookup,
        shot_zone_source,
        sum(paint_attempts) as paint_attempts,
        sum(paint_makes) as paint_makes,
        sum(mid_range_attempts) as mid_range_attempts,
        sum(mid_range_makes) as mid_range_makes,
        sum(three_attempts_pbp) as three_attempts_pbp,
        sum(three_makes_pbp) as three_makes_pbp,
        sum(unclassified_attempts) as unclassified_attempts,
        sum(assisted_fg_makes) as assisted_fg_makes,
        sum(unassisted_fg_makes) as unassisted_fg_makes,
        sum(distance_rule_shots) as distance_rule_shots,
        sum(and1_count) as and1_count,
        sum(paint_blocks) as paint_blocks,
        sum(mid_range_blocks) as mid_range_blocks,
        sum(three_pt_blocks) as three_pt_blocks
    from contributions
    group by game_id, player_lookup, shot_zone_source
)

select * from final
