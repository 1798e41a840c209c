-- BigDataBall play-by-play: latest version of each event, in the shape shared with the
-- NBA.com fallback (coordinates in tenths of feet, basket at (0, 0)).
with source as (
    select * from {{ source('nba_raw', 'bigdataball_play_by_play') }}
    where {{ in_window('game_date') }}
),

latest as (
    {{ latest_version('source', ['game_id', 'event_id']) }}
),

final as (
    select
        game_id,
        event_id,
        game_date,
        event_sequence,
        period,
        lower(trim(event_type)) as event_type,
        lower(trim(event_subtype)) as event_subtype,
        case
            when lower(trim(event_type)) = 'shot' then 'field_goal'
            when lower(trim(event_type)) = 'free throw' then 'free_throw'
            else 'other'
        end as event_kind,
        {{ normalize_lookup('player_1_lookup') }} as shooter_lookup,
        nullif(trim(player_1_team_abbr), '') as shooter_team_abbr,
        shot_made,
        coalesce(lower(event_subtype) like '%3pt%', false) or coalesce(upper(shot_type) = '3PT', false)
            as is_three_label,
        shot_distance as shot_distance_ft,
        original_x as x_tenths,
        original_y as y_tenths,
        case when lower(player_2_role) = 'assist' then {{ normalize_lookup('player_2_lookup') }} end
            as assist_lookup,
        case when lower(player_2_role) = 'block' then {{ normalize_lookup('player_2_lookup') }} end
            as block_lookup,
        coalesce(lower(trim(event_subtype)) = 'free throw 1/1', false) as is_and1_free_throw,
        data_source,
        processed_at
    from latest
)

select * from final
