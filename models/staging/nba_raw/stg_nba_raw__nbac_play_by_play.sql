-- NBA.com play-by-play (the fallback zone source): latest version of each action, in the
-- shape shared with BigDataBall. Its shot_x / shot_y are feet on a 50 x 94 court with the
-- basket at (25, 5.25); shots recorded at the far end are mirrored to the near basket.
with source as (
    select * from {{ source('nba_raw', 'nbac_play_by_play') }}
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
        lower(trim(event_action_type)) as event_subtype,
        case
            when lower(trim(event_type)) in ('2pt', '3pt') then 'field_goal'
            when lower(trim(event_type)) = 'freethrow' then 'free_throw'
            else 'other'
        end as event_kind,
        {{ normalize_lookup('player_1_lookup') }} as shooter_lookup,
        nullif(trim(player_1_team_abbr), '') as shooter_team_abbr,
        shot_made,
        coalesce(lower(trim(event_type)) = '3pt', false) or coalesce(upper(shot_type) = '3PT', false)
            as is_three_label,
        shot_distance as shot_distance_ft,
        case when shot_y > 47 then (25 - shot_x) * 10 else (shot_x - 25) * 10 end as x_tenths,
        case when shot_y > 47 then (88.75 - shot_y) * 10 else (shot_y - 5.25) * 10 end as y_tenths,
        case when shot_made then {{ normalize_lookup('player_2_lookup') }} end as assist_lookup,
        case when not shot_made then {{ normalize_lookup('player_3_lookup') }} end as block_lookup,
        coalesce(lower(trim(event_action_type)) = 'free throw 1 of 1', false) as is_and1_free_throw,
        'nbac_play_by_play' as data_source,
        processed_at
    from latest
)

select * from final
