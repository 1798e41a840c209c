{#- Custom schemas are used verbatim (nba_staging, nba_intermediate, nba_analytics),
    so the mart lands in nba_analytics.player_game_summary on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
