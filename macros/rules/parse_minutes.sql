{#- Minutes strings -> decimal minutes (1 dp) and a parse status (domain.md 5.1).

    Accepted shapes (surrounding spaces ignored):
      MM:SS / M:SS / MMM:SS (team totals)   35:42 -> 35.7, 0:45 -> 0.8, 265:00 -> 265.0, 30:60 -> 31.0
      whole or decimal minutes              38 -> 38.0, 00 -> 0.0, 32.5 -> 32.5
      ISO-8601 duration                     PT34M27.00S -> 34.5, PT00M00.00S -> 0.0
    Seconds 60 are a real scorer's rounding ('30:60', '0:60'): read as the next whole minute
    (31.0, 1.0).
    Missing (NULL minutes, status 'missing'): NULL, '', '-', 'null', 'none', 'DNP...'.
    Anything else, including seconds 61 and above ('2:61'), is NULL with status 'unparseable'.
    Zero stays 0.0. Rounding is half-up on exact integer centiseconds, so every engine agrees. -#}

{% macro _minutes_clean(expr) -%}
    trim({{ dbt.safe_cast(expr, dbt.type_string()) }})
{%- endmacro %}

{#- Total centiseconds of a minutes string, NULL when not one of the accepted shapes. -#}
{% macro _minutes_centiseconds(expr) -%}
    {%- set s = _minutes_clean(expr) -%}
    {%- set int_type = dbt.type_bigint() -%}
    case
        when {{ regex_matches(s, '\d{1,3}:(?:[0-5]\d|60)') }}
            then cast({{ regex_capture(s, '^(\d+):') }} as {{ int_type }}) * 6000
                + cast({{ regex_capture(s, ':(\d+)$') }} as {{ int_type }}) * 100
        when {{ regex_matches(s, '\d{1,3}') }}
            then cast({{ s }} as {{ int_type }}) * 6000
        when {{ regex_matches(s, '\d{1,3}\.\d{1,2}') }}
            then cast(round(cast({{ s }} as {{ dbt.type_numeric() }}) * 6000, 0) as {{ int_type }})
        when {{ regex_matches(s, 'PT(?:\d{1,3}M)?(?:[0-5]?\d(?:\.\d{1,2})?S)?') }} and {{ s }} != 'PT'
            then coalesce(cast({{ regex_capture(s, '^PT(\d+)M') }} as {{ int_type }}), 0) * 6000
                + coalesce(cast(round(cast({{ regex_capture(s, '(\d+(?:\.\d+)?)S$') }}
                    as {{ dbt.type_numeric() }}) * 100, 0) as {{ int_type }}), 0)
    end
{%- endmacro %}

{% macro parse_minutes(expr) -%}
    cast(
        cast(floor(({{ _minutes_centiseconds(expr) }} + 300) / 600) as {{ dbt.type_bigint() }})
        / 10.0 as numeric(5, 1)
    )
{%- endmacro %}

{% macro minutes_parse_status(expr) -%}
    {%- set s = _minutes_clean(expr) -%}
    case
        when {{ s }} is null or {{ s }} in ('', '-', '--')
            or lower({{ s }}) in ('null', 'none', 'nan', 'n/a')
            or lower({{ s }}) like 'dnp%'
            then 'missing'
        when ({{ _minutes_centiseconds(expr) }}) is null then 'unparseable'
        else 'ok'
    end
{%- endmacro %}
