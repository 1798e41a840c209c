-- Field-goal and free-throw events of each game from its chosen play-by-play source, with
-- the actors' lookups matched to the box score of the same game (numeric id prefixes are
-- gone in staging; suffix drift such as timhardaway vs timhardawayjr is matched here, within
-- the same game and team).
with sources as (
    select * from {{ ref('int_pbp_game_sources') }}
),

bigdataball as (
    select * from {{ ref('stg_nba_raw__bigdataball_play_by_play') }}
),

nbac as (
    select * from {{ ref('stg_nba_raw__nbac_play_by_play') }}
),

roster as (
    select * from {{ ref('int_box_scores_unified') }}
),

events as (
    select bigdataball.*
    from bigdataball
    inner join sources
        on bigdataball.game_id = sources.game_id
        and sources.shot_zone_source = 'bigdataball'
    where bigdataball.event_kind in ('field_goal', 'free_throw')
    union all
    select nbac.*
    from nbac
    inner join sources
        on nbac.game_id = sources.game_id
        and sources.shot_zone_source = 'nbac_play_by_play'
    where nbac.event_kind in ('field_goal', 'free_throw')
),

actors as (
    select game_id, shooter_team_abbr as expected_team_abbr, shooter_lookup as pbp_lookup
    from events
    union all
    select game_id, shooter_team_abbr as expected_team_abbr, assist_lookup as pbp_lookup
    from events
    union all
    select
        game_id,
        {{ opponent_team('game_id', 'shooter_team_abbr') }} as expected_team_abbr,
        block_lookup as pbp_lookup
    from events
),

candidates as (
    select distinct game_id, expected_team_abbr, pbp_lookup
    from actors
    where pbp_lookup is not null
),

matches as (
    select
        candidates.game_id,
        candidates.expected_team_abbr,
        candidates.pbp_lookup,
        roster.player_lookup,
        row_number() over (
            partition by candidates.game_id, candidates.expected_team_abbr, candidates.pbp_lookup
            order by case when roster.player_lookup = candidates.pbp_lookup then 0 else 1 end,
                roster.player_lookup
        ) as match_rank
    from candidates
    inner join roster
        on candidates.game_id = roster.game_id
        and (
            roster.player_lookup = candidates.pbp_lookup
            or (
                {{ lookup_without_suffix('roster.player_lookup') }}
                = {{ lookup_without_suffix('candidates.pbp_lookup') }}
                and (
                    candidates.expected_team_abbr is null
                    or roster.team_abbr is null
                    or roster.team_abbr = candidates.expected_team_abbr
                )
            )
        )
),

lookup_map as (
    select game_id, expected_team_abbr, pbp_lookup, player_lookup
    from matches
    where match_rank = 1
),

final as (
    select
        events.game_id,
        events.event_id,
        events.game_date,
        events.event_kind,
        events.data_source,
        coalesce(shooter.player_lookup, events.shooter_lookup) as shooter_lookup,
        events.shooter_team_abbr,
        events.shot_made,
        events.is_three_label,
        events.shot_distance_ft,
        events.x_tenths,
        events.y_tenths,
        coalesce(assister.player_lookup, events.assist_lookup) as assist_lookup,
        coalesce(blocker.player_lookup, events.block_lookup) as block_lookup,
        events.is_and1_free_throw
    from events
    left join lookup_map as shooter
        on events.game_id = shooter.game_id
        and events.shooter_lookup = shooter.pbp_lookup
        and events.shooter_team_abbr is not distinct from shooter.expected_team_abbr
    left join lookup_map as assister
        on events.game_id = assister.game_id
        and events.assist_lookup = assister.pbp_lookup
        and events.shooter_team_abbr is not distinct from assister.expected_team_abbr
    left join lookup_map as blocker
        on events.game_id = blocker.game_id
        and events.block_lookup = blocker.pbp_lookup
        and {{ opponent_team('events.game_id', 'events.shooter_team_abbr') }}
            is not distinct from blocker.expected_team_abbr
)

select * from final
