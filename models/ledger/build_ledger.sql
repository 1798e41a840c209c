{#- The build ledger: one row per game_date of the build window that has raw rows or mart rows,
    saying when it was built (built_at, invocation_id), by which project logic
    (project_fingerprint, macros/ledger/ledger.sql) and from which raw input (per raw table:
    rows of every version and max processed_at of that date). Downstream of the mart, so a
    build whose audit fails (the mart is then skipped) records nothing. Same strategy and
    partitioning as the mart (window_replace on DuckDB, static insert_overwrite of the window's
    partitions on BigQuery). With var ledger_bootstrap: true it adds no rows (creates the table
    without claiming that the existing mart was built from today's raw data). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy=('insert_overwrite' if target.type == 'bigquery' else 'window_replace'),
        partition_by=(
            {'field': 'game_date', 'data_type': 'date', 'granularity': 'day'}
            if target.type == 'bigquery' else none
        ),
        on_schema_change='fail',
        tags=['ledger'],
    )
}}

{%- set mart_relation = ref('player_game_summary') %}

with mart as (
    {%- if var('ledger_bootstrap', false) %}
    -- bootstrap: no rows, and the mart may not exist yet (a database with raw data only)
    select
        cast(null as date) as game_date,
        cast(0 as {{ dbt.type_bigint() }}) as mart_rows
    from {{ ref('stg_nba_raw__watermarks') }}
    where false
    {%- else %}
    select
        game_date,
        count(*) as mart_rows
    from {{ mart_relation }}
    where {{ in_window('game_date') }}
    group by game_date
    {%- endif %}
),

watermarks as (
    select * from {{ ref('stg_nba_raw__watermarks') }}
    where {{ in_window('game_date') }}
),

inputs as (
    {{ ledger_pivot_watermarks('watermarks') }}
),

days as (
    select game_date from inputs
    union all
    select game_date from mart
),

final as (
    select distinct
        days.game_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as built_at,
        cast('{{ ledger_invocation_id() }}' as {{ dbt.type_string() }}) as invocation_id,
        cast('{{ project_fingerprint() }}' as {{ dbt.type_string() }}) as project_fingerprint,
        {%- for t in ledger_raw_tables() %}
        coalesce(inputs.{{ t.name }}__rows, 0) as {{ t.name }}__rows,
        inputs.{{ t.name }}__max_processed_at,
        {%- endfor %}
        coalesce(mart.mart_rows, 0) as mart_rows
    from days
    left join mart
        on days.game_date = mart.game_date
    left join inputs
        on days.game_date = inputs.game_date
    {%- if var('ledger_bootstrap', false) %}
    where false
    {%- endif %}
)

select * from final
