-- The play-by-play source of each game's shot zones, chosen per game (domain.md 6.1):
-- BigDataBall when it has shot rows with a distance for the game, else NBA.com, else none.
with bigdataball as (
    select * from {{ ref('stg_nba_raw__bigdataball_play_by_play') }}
),

nbac as (
    select * from {{ ref('stg_nba_raw__nbac_play_by_play') }}
),

shot_rows as (
    select
        game_id,
        game_date,
        case when shot_distance_ft is not null then 1 else 0 end as bigdataball_usable,
        0 as nbac_usable
    from bigdataball
    where event_kind = 'field_goal'
    union all
    select
        game_id,
        game_date,
        0 as bigdataball_usable,
        1 as nbac_usable
    from nbac
    where event_kind = 'field_goal'
),

per_game as (
    select
        game_id,
        min(game_date) as game_date,
        sum(bigdataball_usable) as bigdataball_shots,
        sum(nbac_usable) as nbac_shots
    from shot_rows
    group by game_id
),

final as (
    select
        game_id,
        game_date,
        bigdataball_shots,
        nbac_shots,
        case
            when bigdataball_shots > 0 then 'bigdataball'
            when nbac_shots > 0 then 'nbac_play_by_play'
            else 'none'
        end as shot_zone_source
    from per_game
)

select * from final
