{#- Helpers for the rate checks (tests/generic/null_rate_in_band.sql, coverage_at_least.sql,
    share_in_band.sql).

    dbt requires a test's fail_calc to be an integer (run_results `failures`), and a rate is
    not, so a rate check computes its own outcome: it returns ONE measurement row (the
    measured percentage, the counts, the band, `severity_level` 0 pass / 1 warn / 2 error),
    and fail_calc takes the level. warn_if '>= 1' / error_if '>= 2' then map it to dbt's
    statuses. The row is stored (store_failures), so the measurement can be read back. -#}

{#- The generic tests that are rate checks (tests/generic/): they return one measurement row,
    stored and read back by rate_check_measurements. -#}
{% macro rate_check_test_names() -%}
    {{ return(['null_rate_in_band', 'coverage_at_least', 'share_in_band']) }}
{%- endmacro %}

{#- A percentage bound as a float literal, or a typed NULL when unset. -#}
{% macro _band_value(value) -%}
    {%- if value is none or (value is string and value | trim in ('', 'None', 'none', 'null')) -%}
        cast(null as {{ dbt.type_float() }})
    {%- else -%}
        cast({{ value | float }} as {{ dbt.type_float() }})
    {%- endif -%}
{%- endmacro %}

{#- 2 outside the error bounds, 1 outside the pass bounds, else 0; 0 when nothing was measured. -#}
{% macro severity_band_level(measured, pass_min, pass_max, error_min, error_max) -%}
    case
        when {{ measured }} is null then 0
        {%- if error_min is not none %}
        when {{ measured }} < {{ _band_value(error_min) }} then 2
        {%- endif %}
        {%- if error_max is not none %}
        when {{ measured }} > {{ _band_value(error_max) }} then 2
        {%- endif %}
        {%- if pass_min is not none %}
        when {{ measured }} < {{ _band_value(pass_min) }} then 1
        {%- endif %}
        {%- if pass_max is not none %}
        when {{ measured }} > {{ _band_value(pass_max) }} then 1
        {%- endif %}
        else 0
    end
{%- endmacro %}

{#- The measurement row of a rate check: share (in %) of `population` rows meeting `condition`.
    A condition that is NULL counts as not met. -#}
{% macro share_band_sql(model, condition, population, pass_min, pass_max, error_min, error_max) %}
    with scoped as (
        select * from {{ model }}
        where {{ population }}
    ),

    counted as (
        select
            count(*) as population_rows,
            sum(case when {{ condition }} then 1 else 0 end) as matching_rows
        from scoped
    ),

    measured as (
        select
            population_rows,
            coalesce(matching_rows, 0) as matching_rows,
            round(
                100.0 * cast(coalesce(matching_rows, 0) as {{ dbt.type_float() }})
                / nullif(population_rows, 0),
                2
            ) as measured_pct
        from counted
    ),

    final as (
        select
            measured_pct,
            matching_rows,
            population_rows,
            {{ _band_value(pass_min) }} as pass_min_pct,
            {{ _band_value(pass_max) }} as pass_max_pct,
            {{ _band_value(error_min) }} as error_min_pct,
            {{ _band_value(error_max) }} as error_max_pct,
            {{ severity_band_level('measured_pct', pass_min, pass_max, error_min, error_max) }}
                as severity_level
        from measured
    )

    select * from final
{% endmacro %}
