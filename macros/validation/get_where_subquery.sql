{#- dbt renders a test's `where` config at parse time, where project macros are not
    available, so the window cannot be written as "{{ window_where() }}" in YAML. This is
    dbt's documented workaround: a placeholder in `where`, replaced here at run time.

        config:
          where: __window__          (the build window on game_date)

    The relation itself is tested_relation(relation)'s (macros/wap/published_relation.sql):
    under `dbt test` the tests of the audit model read the published mart.
    Otherwise identical to dbt's default__get_where_subquery. -#}
{% macro get_where_subquery(relation) -%}
    {%- set relation = tested_relation(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- if '__window__' in where -%}
            {%- set where = where | replace('__window__', window_where('game_date')) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
