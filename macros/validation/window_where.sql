{#- The `where` config of every validation test: keep `column` inside the build window
    (vars start_date / end_date), so a chunk validates only what it built. Without a window
    it is `1 = 1` and the tests cover everything. Reuses the model's window rules
    (macros/window.sql: both vars or neither, ISO dates, start <= end). -#}
{% macro window_where(column='game_date') -%}
    {{ in_window(column) }}
{%- endmacro %}
