{#- An aggregate per group (e.g. sum(points) per game and team) must lie in [min_value, max_value].
    Returns one row per failing group with the measured value; a NULL aggregate fails too
    (nothing to measure is a finding). Either bound may be omitted. -#}
{% test aggregate_per_group_between(model, group_by, aggregate, min_value=none, max_value=none, row_condition='1 = 1') %}
    {%- set group_columns = [group_by] if group_by is string else group_by -%}
    with scoped as (
        select * from {{ model }}
        where {{ row_condition }}
    ),

    grouped as (
        select
            {%- for column in group_columns %}
            {{ column }},
            {%- endfor %}
            {{ aggregate }} as measured_value,
            count(*) as group_rows
        from scoped
        group by {{ group_columns | join(', ') }}
    ),

    failing as (
        select
            grouped.*,
            {{ _band_value(min_value) }} as min_value,
            {{ _band_value(max_value) }} as max_value
        from grouped
        where measured_value is null
            {%- if min_value is not none %}
            or measured_value < {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
            or measured_value > {{ max_value }}
            {%- endif %}
    )

    select * from failing
{% endtest %}
