{#- Rows per group (e.g. per game) in [min_count, max_count]; with `row_condition`, only the
    rows meeting it are counted (a group with none of them counts 0, it does not vanish).
    Returns one row per failing group with its count. -#}
{% test row_count_per_group_between(model, group_by, min_count=none, max_count=none, row_condition=none) %}
    {%- set counted = 'count(*)' if row_condition is none
        else 'sum(case when ' ~ row_condition ~ ' then 1 else 0 end)' -%}
    {{ test_aggregate_per_group_between(model, group_by, counted, min_count, max_count) }}
{% endtest %}
