{#- Custom incremental strategy `window_replace` (DuckDB): delete the whole window from the
    target, then insert the new rows. Unlike delete+insert on a unique key, a day that now has
    no rows is emptied too. Without a window (no predicates) the new rows' dates are replaced. -#}
{% macro get_incremental_window_replace_sql(arg_dict) -%}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set dest_columns = arg_dict["dest_columns"] -%}
    {%- set predicates = arg_dict["incremental_predicates"] or [] -%}
    {%- set cols = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    delete from {{ target }}
    where
    {%- if predicates %}
        {{ predicates | join(' and ') }}
    {%- else %}
        game_date in (select distinct game_date from {{ source }})
    {%- endif %};

    insert into {{ target }} ({{ cols }})
    select {{ cols }} from {{ source }}
{%- endmacro %}
