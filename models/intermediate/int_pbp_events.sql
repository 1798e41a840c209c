-- Field-goal and free-throw events of each game from the play-by-play source chosen for that
-- game (domain.md 6.1): BigDataBall when it has shot rows with a distance for the game, else
-- NBA.com, else none (the game then has no rows here). The actors' lookups are matched to the
-- box score of the same game by the player identity rule (macros/rules/identity.sql): the
-- same lookup, else the suffix-less name (timhardaway vs timhardawayjr) within the same game
-- and team; how each actor was matched is kept (*_identity_match).
{#- The two play-by-play staging views share this shape; each game's events come from one. -#}
{% set event_columns = [
    'game_id', 'event_id', 'game_date', 'event_kind', 'data_source', 'shooter_lookup',
    'shooter_team_abbr', 'shot_made', 'is_three_label', 'shot_distance_ft', 'x_tenths',
    'y_tenths', 'assist_lookup', 'block_lookup', 'is_and1_free_throw'
] %}

with bigdataball as (
    select * from {{ ref('stg_nba_raw__bigdataball_play_by_play') }}
),

nbac as (
    select * from {{ ref('stg_nba_raw__nbac_play_by_play') }}
),

roster as (
    select * from {{ ref('int_box_scores_unified') }}
),

scoring_events as (
    select
        'bigdataball' as pbp_source,
        {{ event_columns | join(', ') }}
    from bigdataball
    where event_kind in ('field_goal', 'free_throw')
    union all
    select
        'nbac_play_by_play' as pbp_source,
        {{ event_columns | join(', ') }}
    from nbac
    where event_kind in ('field_goal', 'free_throw')
),

game_shot_counts as (
    select
        game_id,
        sum(
            case
                when pbp_source = 'bigdataball' and event_kind = 'field_goal' and shot_distance_ft is not null
                    then 1
                else 0
            end
        ) as bigdataball_shots,
        sum(case when pbp_source = 'nbac_play_by_play' and event_kind = 'field_goal' then 1 else 0 end)
            as nbac_shots
    from scoring_events
    group by game_id
),

game_sources as (
    select
        game_id,
        case
            when bigdataball_shots > 0 then 'bigdataball'
            when nbac_shots > 0 then 'nbac_play_by_play'
            else 'none'
        end as shot_zone_source
    from game_shot_counts
),

events as (
    select
        scoring_events.*,
        coalesce(
            {{ opponent_team('scoring_events.game_id', 'scoring_events.shooter_team_abbr') }}, ''
        ) as opponent_team_abbr,
        game_sources.shot_zone_source
    from scoring_events
    inner join game_sources
        on scoring_events.game_id = game_sources.game_id
        and scoring_events.pbp_source = game_sources.shot_zone_source
),

-- Every actor key of the events: the shooter and the assister (the shooter's team), the
-- blocker (the other team); '' when the team is unknown.
actors as (
    select game_id, coalesce(shooter_team_abbr, '') as team_abbr, shooter_lookup as player_lookup
    from events
    union all
    select game_id, coalesce(shooter_team_abbr, '') as team_abbr, assist_lookup as player_lookup
    from events
    union all
    select game_id, opponent_team_abbr as team_abbr, block_lookup as player_lookup
    from events
),

{{ player_identity_ctes('lookup_map', 'actors', 'roster') }},

final as (
    select
        events.game_id,
        events.event_id,
        events.game_date,
        events.event_kind,
        events.data_source,
        coalesce(shooter.player_lookup, events.shooter_lookup) as shooter_lookup,
        shooter.identity_match as shooter_identity_match,
        events.shooter_team_abbr,
        events.shot_made,
        events.is_three_label,
        events.shot_distance_ft,
        events.x_tenths,
        events.y_tenths,
        coalesce(assister.player_lookup, events.assist_lookup) as assist_lookup,
        assister.identity_match as assist_identity_match,
        coalesce(blocker.player_lookup, events.block_lookup) as block_lookup,
        blocker.identity_match as block_identity_match,
        events.is_and1_free_throw,
        events.shot_zone_source
    from events
    left join lookup_map as shooter
        on events.game_id = shooter.game_id
        and events.shooter_lookup = shooter.candidate_lookup
        and coalesce(events.shooter_team_abbr, '') = shooter.candidate_team_key
    left join lookup_map as assister
        on events.game_id = assister.game_id
        and events.assist_lookup = assister.candidate_lookup
        and coalesce(events.shooter_team_abbr, '') = assister.candidate_team_key
    left join lookup_map as blocker
        on events.game_id = blocker.game_id
        and events.block_lookup = blocker.candidate_lookup
        and events.opponent_team_abbr = blocker.candidate_team_key
)

select * from final
