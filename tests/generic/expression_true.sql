{#- A row-level rule: every row (meeting `row_condition`) satisfies `expression`.
    Returns the offending rows whole. A NULL result is not a failure (the rule does not apply,
    e.g. box-score identities on a DNP row); test NULLs with not_null or a null-rate check. -#}
{% test expression_true(model, expression, row_condition='1 = 1', column_name=none) %}
    with scoped as (
        select * from {{ model }}
        where {{ row_condition }}
    ),

    offending as (
        select * from scoped
        where not ({{ expression }})
    )

    select * from offending
{% endtest %}
