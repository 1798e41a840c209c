{#- on-run-end hook (dbt_project.yml): after `dbt test` / `dbt build`, write the measurement
    rows the rate checks (rate_check_test_names()) stored to the dbt log as one debug line,
    `VALIDATION_MEASUREMENTS {relation: [rows]}`, read back by rate_check_measurements.
    `python -m driver validate` and the backfill read that line for the measured percentages,
    so a validation is one dbt invocation on any adapter. Nothing when no rate check stored a
    row (store_failures_as ephemeral, or none selected). -#}
{% macro log_validation_measurements(results) %}
    {%- if execute -%}
        {%- set out = rate_check_measurements(results) -%}
        {%- if out -%}
            {%- do log('VALIDATION_MEASUREMENTS ' ~ tojson(out), info=false) -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
