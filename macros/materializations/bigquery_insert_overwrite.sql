{#- BigQuery insert_overwrite with static partitions taken from the build window at run time.

    dbt-bigquery renders the strategy through this macro name; a root-project macro of the same
    name wins over the adapter's, so this one fills `partitions` from the window (one literal
    per day, macros/window.sql) when the model does not configure them, and hands over to the
    adapter's own macro. A partition of the window is then replaced even when the new result
    has no rows for it. Keeping the window out of config() keeps the parsed project the same
    for every window. Without a window (all raw data) the partitions stay none: dbt's dynamic
    insert_overwrite replaces the partitions the build produces. Both models of
    write-audit-publish (models/marts/) use it: parallel chunks write disjoint partitions of
    the audit relation, and the mart's publish is one MERGE of the window's partitions. -#}
{% macro bq_generate_incremental_insert_overwrite_build_sql(
    tmp_relation, target_relation, sql, unique_key, partition_by, partitions, dest_columns,
    tmp_relation_exists, copy_partitions
) -%}
    {%- set partitions = partitions if partitions else window_partitions() -%}
    {{ return(dbt.bq_generate_incremental_insert_overwrite_build_sql(
        tmp_relation, target_relation, sql, unique_key, partition_by, partitions, dest_columns,
        tmp_relation_exists, copy_partitions
    )) }}
{%- endmacro %}
