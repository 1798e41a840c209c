{#- The build ledger (models/ledger): what each date of the mart was built from.

    ledger_raw_tables(): the raw tables whose watermark (rows of all versions, max processed_at
    per game_date) the ledger records, and the category a change of each is reported as by
    build_staleness. Every raw table the mart reads (the raw-table contract). -#}
{% macro ledger_raw_tables() -%}
    {{ return([
        {'name': 'nbac_gamebook_player_stats', 'category': 'box-score correction'},
        {'name': 'bdl_player_boxscores', 'category': 'box-score correction'},
        {'name': 'nbac_team_boxscore', 'category': 'box-score correction'},
        {'name': 'bigdataball_play_by_play', 'category': 'late play-by-play'},
        {'name': 'nbac_play_by_play', 'category': 'late play-by-play'},
        {'name': 'nbac_schedule', 'category': 'schedule change'},
    ]) }}
{%- endmacro %}

{#- The project fingerprint: md5 over this project's models (raw_code, sorted by unique_id)
    and macros (macro_sql, sorted by name; generic tests included), plus the rule vars that change the mart (shot_zone_method,
    team_hint_days). Left out: the ledger itself (models/ledger, macros/ledger and the two
    staging views it reads, tagged `ledger`), whose code does not change the mart. Computed in
    jinja from the parsed graph, so `dbt build` and `python -m driver` agree, whatever is
    selected. Empty at parse time (the graph is not there yet). -#}
{% macro project_fingerprint() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- if node.package_name == project_name and node.resource_type == 'model'
            and 'ledger' not in node.tags -%}
            {%- do parts.append(node.unique_id ~ '\n' ~ node.raw_code) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- the graph holds no macros: read them from the project's macro namespace -#}
    {%- for name in nba_analytics | sort -%}
        {%- set macro = nba_analytics[name].macro -%}
        {%- if not macro.original_file_path.startswith('macros/ledger/') -%}
            {%- do parts.append(macro.unique_id ~ '\n' ~ macro.macro_sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do parts.append('shot_zone_method=' ~ var('shot_zone_method', 'court_geometry')) -%}
    {%- do parts.append('team_hint_days=' ~ var('team_hint_days', 30)) -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}

{#- One row per game_date of `relation` (stg_nba_raw__watermarks rows: raw_table, game_date,
    raw_rows, max_processed_at) with two columns per raw table: <table>__rows (0 when none)
    and <table>__max_processed_at. -#}
{% macro ledger_pivot_watermarks(relation) -%}
    select
        game_date,
        {%- for t in ledger_raw_tables() %}
        cast(coalesce(sum(case when raw_table = '{{ t.name }}' then raw_rows end), 0) as {{ dbt.type_bigint() }})
            as {{ t.name }}__rows,
        max(case when raw_table = '{{ t.name }}' then max_processed_at end)
            as {{ t.name }}__max_processed_at{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by game_date
{%- endmacro %}

{#- A timestamp as 'YYYY-MM-DD HH:MM' text, '-' when NULL (build_staleness.stale_tables). -#}
{% macro ledger_format_ts(expr) -%}
    {{ return(adapter.dispatch('ledger_format_ts', 'nba_analytics')(expr)) }}
{%- endmacro %}

{% macro default__ledger_format_ts(expr) -%}
    coalesce(strftime({{ expr }}, '%Y-%m-%d %H:%M'), '-')
{%- endmacro %}

{% macro bigquery__ledger_format_ts(expr) -%}
    coalesce(format_timestamp('%Y-%m-%d %H:%M', {{ expr }}), '-')
{%- endmacro %}

{#- The dbt invocation id of this run (build_ledger.invocation_id, matches run_results.json). -#}
{% macro ledger_invocation_id() -%}
    {{ return(invocation_id) }}
{%- endmacro %}
