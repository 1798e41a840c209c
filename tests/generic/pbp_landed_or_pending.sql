{#- Late data is expected: a game with a box score but no play-by-play in either source
    (shot_zone_source = 'none' on all its rows) is `pending` while it is younger than
    `late_data_hours` (var) — a warning — and `overdue` after that: an error when var
    late_data_overdue is 'error', else a warning (the default: about 1% of games never get
    play-by-play, docs/synthetic_data.md, and an error would hold back every publish of a
    window holding one).
    Age: from the start of the game's date (UTC) to var as_of (ISO timestamp, for tests and
    replays) or now. Returns one row per such game (game_id, game_date, age_hours, status,
    severity_level 1 pending / 2 overdue); the stored rows name the games. -#}
{% test pbp_landed_or_pending(model, late_data_hours=none) %}
    {{ config(fail_calc='coalesce(max(severity_level), 0)', warn_if='>= 1', error_if='>= 2') }}
    {%- set limit = late_data_hours if late_data_hours is not none else var('late_data_hours', 72) %}
    {%- set overdue = var('late_data_overdue', 'warn') %}
    {%- if overdue not in ('warn', 'error') %}
        {{ exceptions.raise_compiler_error(
            "var late_data_overdue must be 'warn' or 'error', got '" ~ overdue ~ "'") }}
    {%- endif %}
    with games as (
        select
            game_id,
            game_date,
            max(case when shot_zone_source != 'none' then 1 else 0 end) as has_pbp
        from {{ model }}
        group by game_id, game_date
    ),

    aged as (
        select
            game_id,
            game_date,
            {{ dbt.datediff('cast(game_date as timestamp)', ledger_as_of(), 'hour') }} as age_hours
        from games
        where has_pbp = 0
    )

    select
        game_id,
        game_date,
        age_hours,
        case when age_hours < {{ limit }} then 'pending' else 'overdue' end as status,
        case when age_hours < {{ limit }} then 1 else {{ 2 if overdue == 'error' else 1 }} end
            as severity_level
    from aged
{% endtest %}
