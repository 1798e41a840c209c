{#- For `python -m driver validate`: read back the measurement rows the rate checks stored
    (store_failures) and print them as one JSON line, so the report can show measured values
    on any adapter.  dbt run-operation validation_measurements --args '{relations: [...]}' -#}
{% macro validation_measurements(relations) %}
    {%- set out = {} -%}
    {%- if execute -%}
        {%- for relation in relations -%}
            {%- set table = run_query(
                'select measured_pct, matching_rows, population_rows, pass_min_pct, pass_max_pct,'
                ~ ' error_min_pct, error_max_pct, severity_level from ' ~ relation) -%}
            {%- set rows = [] -%}
            {%- for row in table.rows -%}
                {%- set values = {} -%}
                {%- for column in table.column_names -%}
                    {%- set value = row[column] -%}
                    {%- do values.update({column: (value | float) if value is not none else none}) -%}
                {%- endfor -%}
                {%- do rows.append(values) -%}
            {%- endfor -%}
            {%- do out.update({relation: rows}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ print('VALIDATION_MEASUREMENTS ' ~ tojson(out)) }}
{% endmacro %}
