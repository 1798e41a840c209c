{#- Late data is expected: one row per game with a box score but no play-by-play in either
    source (shot_zone_source = 'none' on its rows), with its status by the late-data rule
    (macros/late_data.sql): `pending` while younger than `late_data_hours` — a warning — and
    `overdue` after that: an error when var late_data_overdue is 'error', else a warning (the
    default: about 1% of games never get play-by-play, docs/synthetic_data.md, and an error
    would hold back every publish of a window holding one). Columns: game_id, game_date,
    age_hours, status, severity_level (1 pending / 2 overdue); the stored rows name the games. -#}
{% test pbp_landed_or_pending(model, late_data_hours=none) %}
    {{ config(fail_calc='coalesce(max(severity_level), 0)', warn_if='>= 1', error_if='>= 2') }}
    {%- set overdue = var('late_data_overdue', 'warn') %}
    {%- if overdue not in ('warn', 'error') %}
        {{ exceptions.raise_compiler_error(
            "var late_data_overdue must be 'warn' or 'error', got '" ~ overdue ~ "'") }}
    {%- endif %}
    with games as (
        select distinct
            game_id,
            game_date
        from {{ model }}
        where shot_zone_source = 'none'
    ),

    aged as (
        select
            game_id,
            game_date,
            {{ late_data_age_hours('game_date') }} as age_hours,
            {{ late_data_status('game_date', late_data_hours) }} as status
        from games
    )

    select
        game_id,
        game_date,
        age_hours,
        status,
        case when status = 'pending' then 1 else {{ 2 if overdue == 'error' else 1 }} end
            as severity_level
    from aged
{% endtest %}
