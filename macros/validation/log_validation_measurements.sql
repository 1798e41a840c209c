{#- on-run-end hook (dbt_project.yml): after `dbt test` / `dbt build`, read back the
    measurement rows the rate checks (null_rate_in_band, coverage_at_least) stored and write
    them to the dbt log as one debug line, `VALIDATION_MEASUREMENTS {relation: [rows]}`.
    `python -m driver validate` and the backfill read that line for the measured percentages,
    so a validation is one dbt invocation on any adapter. One query for all of them; nothing
    when no rate check stored a row (store_failures_as ephemeral, or none selected). -#}
{% macro log_validation_measurements(results) %}
    {%- if execute -%}
        {%- set relations = [] -%}
        {%- for result in results -%}
            {%- set node = result.node -%}
            {%- if node.resource_type == 'test'
                and result.status in ('pass', 'warn', 'fail')
                and node.test_metadata is not none
                and node.test_metadata.name in ('null_rate_in_band', 'coverage_at_least')
                and node.relation_name
                and node.config.store_failures
                and node.config.store_failures_as in (none, 'table', 'view') -%}
                {%- do relations.append(node.relation_name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if relations -%}
            {%- set columns = ['measured_pct', 'matching_rows', 'population_rows', 'pass_min_pct',
                               'pass_max_pct', 'error_min_pct', 'error_max_pct', 'severity_level'] -%}
            {%- set selects = [] -%}
            {%- for relation in relations -%}
                {%- set casts = [] -%}
                {%- for column in columns -%}
                    {%- do casts.append('cast(' ~ column ~ ' as ' ~ dbt.type_float() ~ ') as ' ~ column) -%}
                {%- endfor -%}
                {%- do selects.append('select ' ~ loop.index0 ~ ' as relation_index, '
                                      ~ casts | join(', ') ~ ' from ' ~ relation) -%}
            {%- endfor -%}
            {%- set table = run_query(selects | join('\nunion all\n')) -%}
            {%- set out = {} -%}
            {%- for relation in relations -%}
                {%- do out.update({relation: []}) -%}
            {%- endfor -%}
            {%- for row in table.rows -%}
                {%- set values = {} -%}
                {%- for column in columns -%}
                    {%- set value = row[column] -%}
                    {%- do values.update({column: (value | float) if value is not none else none}) -%}
                {%- endfor -%}
                {%- do out[relations[row['relation_index'] | int]].append(values) -%}
            {%- endfor -%}
            {%- do log('VALIDATION_MEASUREMENTS ' ~ tojson(out), info=false) -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
