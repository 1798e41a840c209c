{#- No two rows share the values of `combination_of_columns` (NULLs compare equal, as in a
    group by). Returns each duplicated combination with how many rows carry it. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    with duplicated as (
        select
            {%- for column in combination_of_columns %}
            {{ column }},
            {%- endfor %}
            count(*) as duplicate_rows
        from {{ model }}
        group by {{ combination_of_columns | join(', ') }}
        having count(*) > 1
    )

    select * from duplicated
{% endtest %}
