{#- The measurement rows the rate checks (rate_check_test_names()) of this dbt
    call stored, read back in one query: {relation_name: [ {column: float or none} ]}.
    Empty when no rate check stored a row (store_failures_as ephemeral, or none selected).
    Two on-run-end hooks use it: log_validation_measurements (the driver's report) and
    record_validation_history (the warehouse history). -#}

{#- The stored-failure relations of the rate checks among `results`. -#}
{% macro rate_check_relations(results) %}
    {%- set relations = [] -%}
    {%- for result in results -%}
        {%- set node = result.node -%}
        {%- if node.resource_type == 'test'
            and result.status in ('pass', 'warn', 'fail')
            and node.test_metadata is not none
            and node.test_metadata.name in rate_check_test_names()
            and node.relation_name
            and node.config.store_failures
            and node.config.store_failures_as in (none, 'table', 'view') -%}
            {%- do relations.append(node.relation_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(relations) }}
{% endmacro %}

{% macro rate_check_measurements(results) %}
    {%- set out = {} -%}
    {%- if execute -%}
        {%- set relations = rate_check_relations(results) -%}
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
                {%- do out.update({relation: []}) -%}
            {%- endfor -%}
            {%- set table = run_query(selects | join('\nunion all\n')) -%}
            {%- for row in table.rows -%}
                {%- set values = {} -%}
                {%- for column in columns -%}
                    {%- set value = row[column] -%}
                    {%- do values.update({column: (value | float) if value is not none else none}) -%}
                {%- endfor -%}
                {%- do out[relations[row['relation_index'] | int]].append(values) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(out) }}
{% endmacro %}
