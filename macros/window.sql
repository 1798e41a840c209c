{#- The build window: vars start_date / end_date (ISO dates, inclusive), or, when a var is not
    set, the environment variables NBA_WINDOW_START / NBA_WINDOW_END. Neither = all raw data.
    Invalid values are compile errors that say what to fix.

    The window is read at run time only (`execute`): the parsed project never depends on it. dbt
    re-parses the whole project when --vars change, but records an env_var only when it is read
    while parsing, so a window passed in the environment keeps dbt's partial parse valid from one
    window to the next (the driver passes it so; docs/architecture.md). A var set to '' means "no
    window" even when the environment has one (the dbt unit tests use that). -#}

{% macro _window_var(name) -%}
    {%- set raw = var(name, none) -%}
    {%- set label = "var '" ~ name ~ "'" -%}
    {%- if raw is none and execute -%}
        {%- set env_name = {'start_date': 'NBA_WINDOW_START', 'end_date': 'NBA_WINDOW_END'}[name] -%}
        {%- set raw = env_var(env_name, '') -%}
        {%- set label = "environment variable " ~ env_name -%}
    {%- endif -%}
    {%- if raw is none or (raw is string and raw | trim == '') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set value = (raw | string) | trim -%}
    {%- set m = modules.re.fullmatch('(\d{4})-(\d{2})-(\d{2})', value) -%}
    {%- if not m -%}
        {{ exceptions.raise_compiler_error(
            label ~ " must be an ISO date YYYY-MM-DD, got '" ~ value ~ "'. "
            ~ "Example: --vars '{start_date: 2022-01-01, end_date: 2022-01-31}'") }}
    {%- endif -%}
    {%- set y, mo, d = m.group(1) | int, m.group(2) | int, m.group(3) | int -%}
    {%- if mo < 1 or mo > 12 or d < 1 -%}
        {{ exceptions.raise_compiler_error(label ~ " is not a real date: '" ~ value ~ "'") }}
    {%- endif -%}
    {%- set next_month = modules.datetime.date(y + (mo // 12), (mo % 12) + 1, 1) -%}
    {%- set days_in_month = (next_month - modules.datetime.timedelta(days=1)).day -%}
    {%- if d > days_in_month -%}
        {{ exceptions.raise_compiler_error(label ~ " is not a real date: '" ~ value ~ "' ("
            ~ value[:7] ~ " has " ~ days_in_month ~ " days)") }}
    {%- endif -%}
    {{ return(modules.datetime.date(y, mo, d)) }}
{%- endmacro %}

{#- {'start': date|none, 'end': date|none}, validated: both or neither, start <= end. -#}
{% macro window_bounds() -%}
    {%- set start = _window_var('start_date') -%}
    {%- set end = _window_var('end_date') -%}
    {%- if (start is none) != (end is none) -%}
        {{ exceptions.raise_compiler_error(
            "Set both vars start_date and end_date (or both NBA_WINDOW_START and NBA_WINDOW_END, or neither, to build all raw data); got start_date="
            ~ start ~ ", end_date=" ~ end) }}
    {%- endif -%}
    {%- if start is not none and end < start -%}
        {{ exceptions.raise_compiler_error(
            "var end_date (" ~ end ~ ") is before start_date (" ~ start ~ "): swap them") }}
    {%- endif -%}
    {{ return({'start': start, 'end': end}) }}
{%- endmacro %}

{#- A predicate keeping `column` inside the window, widened by `days_around` on both sides for
    rules that look at neighbouring days (1 = 1 without a window). -#}
{% macro in_window(column='game_date', days_around=0) -%}
    {%- set w = window_bounds() -%}
    {%- if w.start is none -%}
        1 = 1
    {%- else -%}
        {%- set pad = modules.datetime.timedelta(days=days_around) -%}
        {{ column }} between {{ date_literal(w.start - pad) }} and {{ date_literal(w.end + pad) }}
    {%- endif -%}
{%- endmacro %}

{#- Static partitions for BigQuery insert_overwrite: one date literal per day of the window
    (none without a window: a build then replaces the partitions it produces). Called at run
    time by the insert_overwrite override (macros/materializations/bigquery_insert_overwrite.sql),
    never in a config(), so the parsed project does not depend on the window. -#}
{% macro window_partitions() -%}
    {%- set w = window_bounds() -%}
    {%- if w.start is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = (w.end - w.start).days -%}
    {%- set out = [] -%}
    {%- for i in range(days + 1) -%}
        {%- do out.append(date_literal(w.start + modules.datetime.timedelta(days=i))) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}
