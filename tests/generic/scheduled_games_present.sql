{#- Every final game of the schedule in the window has rows in the model.
    `schedule` is the raw schedule (NBA ids, several versions per game): the version that
    counts is latest_schedule_version's, as in stg_nba_raw__schedule. The raw table is
    read, not the staging view, because a view carries the window of its last build.
    Returns each missing game with its standard id. -#}
{% test scheduled_games_present(model, schedule, final_status=3, model_key='game_id') %}
    with schedule_source as (
        select * from {{ schedule }}
        where {{ window_where('game_date') }}
    ),

    versions as (
        {{ latest_schedule_version('schedule_source') }}
    ),

    final_games as (
        select
            {{ standard_game_id('game_date', 'away_team_tricode', 'home_team_tricode') }} as game_id,
            game_id as nba_game_id,
            game_date,
            season_type,
            away_team_tricode as away_team_abbr,
            home_team_tricode as home_team_abbr,
            game_status
        from versions
        where game_status = {{ final_status }}
    ),

    built_games as (
        select distinct {{ model_key }} as game_id
        from {{ model }}
    ),

    missing as (
        select final_games.*
        from final_games
        left join built_games
            on final_games.game_id = built_games.game_id
        where built_games.game_id is null
    )

    select * from missing
{% endtest %}
