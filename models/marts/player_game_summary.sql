{#- Write-audit-publish, step 2 (publish): copy the audited window from
    player_game_summary__audit into the mart users read. `dbt build` runs this model only
    when every error-level test of the audit model passed, so a failed audit publishes
    nothing and the mart keeps its rows. No second computation: the window's rows are read
    from the audit relation. DuckDB: window_replace (delete the window, insert its rows, in
    the materialization's one transaction). BigQuery: insert_overwrite of the window's
    partitions (static, from the window at run time), one MERGE statement. Without a window
    the days the audit relation holds are replaced. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy=('insert_overwrite' if target.type == 'bigquery' else 'window_replace'),
        partition_by=(
            {'field': 'game_date', 'data_type': 'date', 'granularity': 'day'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=(['player_lookup', 'team_abbr'] if target.type == 'bigquery' else none),
        on_schema_change='fail',
    )
}}

select *
from {{ ref('player_game_summary__audit') }}
where {{ in_window('game_date') }}
