{#- Custom incremental strategy `window_replace` (DuckDB): delete the whole build window from
    the target, then insert the new rows. Unlike delete+insert on a unique key, a day that now
    has no rows is emptied too. The window is read here, at run time (vars start_date /
    end_date, macros/window.sql), not from a config, so the parsed project does not depend on
    it. Without a window the new rows' dates are replaced.
    dbt-duckdb's incremental materialization runs the delete and the insert as one statement
    call between its BEGIN and COMMIT (visible in dbt.log), so the write is one transaction:
    a reader sees the old window or the new one. Used by the audit model and by the mart's
    publish step (write-audit-publish, models/marts/). -#}
{% macro get_incremental_window_replace_sql(arg_dict) -%}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set dest_columns = arg_dict["dest_columns"] -%}
    {%- set w = window_bounds() -%}
    {%- set cols = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    delete from {{ target }}
    where
    {%- if w.start is not none %}
        game_date between {{ date_literal(w.start) }} and {{ date_literal(w.end) }}
    {%- else %}
        game_date in (select distinct game_date from {{ source }})
    {%- endif %};

    insert into {{ target }} ({{ cols }})
    select {{ cols }} from {{ source }}
{%- endmacro %}
