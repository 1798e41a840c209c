{#- Late data is expected (issue 14). BigDataBall's play-by-play lands about 70 h after the
    start of a game's date (docs/synthetic_data.md), so a game built before that has a box
    score but no play-by-play in either source: shot_zone_source 'none' on every row (the
    source is chosen per game, int_pbp_events, so a game's rows agree). Such a game is
    `pending` while it is younger than `late_data_hours` (var, 72) from the start of its
    game date, measured at var `as_of` (an ISO timestamp: tests, replays) or now; after that
    it is `overdue`. The one rule, used by the test pbp_landed_or_pending (names the pending
    and overdue games) and by the shot-zone coverage test (leaves pending games out of its
    population, counts overdue ones). -#}

{#- The age check time: var as_of (ISO timestamp) or now. -#}
{% macro late_data_as_of() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of is none or (as_of | string | trim) == '' -%}
        cast({{ dbt.current_timestamp() }} as timestamp)
    {%- else -%}
        {%- set value = (as_of | string) | trim -%}
        {%- if not modules.re.fullmatch('\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?Z?', value) -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of' must be an ISO timestamp like 2022-01-15T06:00:00, got '" ~ value ~ "'") }}
        {%- endif -%}
        cast('{{ value | replace("T", " ") | replace("Z", "") }}' as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- Hours from the start of `game_date` (a date expression) to the check time. -#}
{% macro late_data_age_hours(game_date='game_date') -%}
    {{ dbt.datediff('cast(' ~ game_date ~ ' as timestamp)', late_data_as_of(), 'hour') }}
{%- endmacro %}

{#- The limit in hours: the argument, else var late_data_hours (72); a number or an error. -#}
{% macro late_data_limit(late_data_hours=none) -%}
    {%- set limit = late_data_hours if late_data_hours is not none else var('late_data_hours', 72) -%}
    {%- if not modules.re.fullmatch('\d+(\.\d+)?', limit | string | trim) -%}
        {{ exceptions.raise_compiler_error(
            "var late_data_hours must be a number of hours, got '" ~ limit ~ "'") }}
    {%- endif -%}
    {{ return(limit | string | trim) }}
{%- endmacro %}

{#- 'pending' or 'overdue' for a game without play-by-play, by the age of `game_date`. -#}
{% macro late_data_status(game_date='game_date', late_data_hours=none) -%}
    case when {{ late_data_age_hours(game_date) }} < {{ late_data_limit(late_data_hours) }}
        then 'pending' else 'overdue' end
{%- endmacro %}

{#- True on the rows of a game whose play-by-play is still pending (a row condition). -#}
{% macro late_data_pending(shot_zone_source='shot_zone_source', game_date='game_date', late_data_hours=none) -%}
    ({{ shot_zone_source }} = 'none' and {{ late_data_status(game_date, late_data_hours) }} = 'pending')
{%- endmacro %}
