{#- No run of more than `max_gap_days` consecutive days without rows in the model inside a
    regular season (the All-Star break is about a week; the off-season is not a regular
    season). A season's span is its first..last regular-season date in the schedule, clipped
    to the window; the day before and the day after the span act as fences, so missing days
    at either end count too. Returns each gap: the season, the last date with rows before it
    and the first date after it, and its length in days. -#}
{% test no_regular_season_gap(model, schedule, max_gap_days, regular_season_type='Regular Season') %}
    with schedule_source as (
        select * from {{ schedule }}
        where {{ window_where('game_date') }}
    ),

    versions as (
        {{ latest_schedule_version('schedule_source') }}
    ),

    season_spans as (
        select
            season_year,
            min(game_date) as span_start,
            max(game_date) as span_end
        from versions
        where season_type = '{{ regular_season_type }}'
        group by season_year
    ),

    model_dates as (
        select distinct game_date
        from {{ model }}
    ),

    fenced_dates as (
        select
            season_spans.season_year,
            model_dates.game_date
        from season_spans
        inner join model_dates
            on model_dates.game_date between season_spans.span_start and season_spans.span_end
        union all
        select
            season_year,
            cast({{ dbt.dateadd('day', -1, 'span_start') }} as date) as game_date
        from season_spans
        union all
        select
            season_year,
            cast({{ dbt.dateadd('day', 1, 'span_end') }} as date) as game_date
        from season_spans
    ),

    ordered as (
        select
            season_year,
            game_date as date_before_gap,
            lead(game_date) over (partition by season_year order by game_date) as date_after_gap
        from fenced_dates
    ),

    gaps as (
        select
            season_year,
            date_before_gap,
            date_after_gap,
            {{ dbt.datediff('date_before_gap', 'date_after_gap', 'day') }} - 1 as gap_days
        from ordered
        where date_after_gap is not null
    )

    select * from gaps
    where gap_days > {{ max_gap_days }}
{% endtest %}
