{#- on-run-end hook (dbt_project.yml): every `dbt build` / `dbt test` that ran data tests
    appends one row per check to nba_monitoring.validation_history, so the warehouse keeps the
    table's validation history (backfill chunks, the final validation, `validate`, refreshes).
    The table is created when missing and never replaced; rows are only inserted.

    A row: the run (dbt invocation_id, start time, command, target), its window (vars
    start_date / end_date, NULL = all dates), the check (name, test, severity), dbt's status,
    the measured value (rate checks: the stored percentage, via rate_check_measurements;
    other checks: the count of failing rows or groups), the band (pass bounds; rate checks also
    their error bounds), the failing rows and where dbt stored them, and when it was recorded.
    On BigQuery the table is partitioned by day of run_started_at. -#}

{% macro validation_history_relation() -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema='nba_monitoring',
        identifier='validation_history',
        type='table')) }}
{%- endmacro %}

{#- The columns, in order, with their cross-database types. -#}
{% macro validation_history_columns() -%}
    {{ return([
        ('run_id', dbt.type_string()),
        ('run_started_at', dbt.type_timestamp()),
        ('dbt_command', dbt.type_string()),
        ('target_name', dbt.type_string()),
        ('window_start', 'date'),
        ('window_end', 'date'),
        ('check_name', dbt.type_string()),
        ('check_description', dbt.type_string()),
        ('test_name', dbt.type_string()),
        ('tested_model', dbt.type_string()),
        ('severity', dbt.type_string()),
        ('status', dbt.type_string()),
        ('measured_value', dbt.type_float()),
        ('measured_unit', dbt.type_string()),
        ('band_min', dbt.type_float()),
        ('band_max', dbt.type_float()),
        ('error_min', dbt.type_float()),
        ('error_max', dbt.type_float()),
        ('failing_rows', dbt.type_bigint()),
        ('population_rows', dbt.type_bigint()),
        ('failures_relation', dbt.type_string()),
        ('execution_seconds', dbt.type_float()),
        ('recorded_at', dbt.type_timestamp()),
    ]) }}
{%- endmacro %}

{% macro create_validation_history(relation) -%}
    {{ return(adapter.dispatch('create_validation_history', 'nba_analytics')(relation)) }}
{%- endmacro %}

{% macro default__create_validation_history(relation) -%}
    create table if not exists {{ relation }} (
        {%- for name, type in validation_history_columns() %}
        {{ name }} {{ type }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro bigquery__create_validation_history(relation) -%}
    create table if not exists {{ relation }} (
        {%- for name, type in validation_history_columns() %}
        {{ name }} {{ type }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
    partition by date(run_started_at)
    options (description = 'One row per data test per dbt build / test (on-run-end hook record_validation_history)')
{%- endmacro %}

{#- A string literal (NULL for none), on one line, quoted by `quote` (the dialect's
    history_quote, dispatched once per hook: a dispatch per value costs ~0.5 s per run). -#}
{% macro history_literal(value, quote) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        {{ quote(value | string | replace('\n', ' ') | replace('\r', ' ')) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__history_quote(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro bigquery__history_quote(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- A number literal (NULL for none or anything not a number), float or integer. -#}
{% macro history_number(value, integer=false) -%}
    {%- if value is none or (value is string and modules.re.fullmatch('\s*-?[0-9]+(\.[0-9]+)?\s*', value) is none) -%}
        null
    {%- else -%}
        {{ value | int if integer else value | float }}
    {%- endif -%}
{%- endmacro %}

{#- A test argument with `{{ var('x') }}` in it (dbt keeps test kwargs unrendered), resolved. -#}
{% macro history_resolve_var(value) -%}
    {%- if value is string and 'var(' in value -%}
        {%- set match = modules.re.fullmatch("\s*\{\{\s*var\(\s*['\"]([A-Za-z0-9_]+)['\"]\s*\)\s*\}\}\s*", value) -%}
        {{ return(var(match.group(1)) if match else none) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro record_validation_history(results) %}
    {%- if execute and flags.WHICH in ('build', 'test', 'retry') -%}
        {%- set tests = [] -%}
        {%- for result in results -%}
            {%- if result.node.resource_type == 'test'
                and result.status in ('pass', 'warn', 'fail', 'error', 'skipped') -%}
                {%- do tests.append(result) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if tests -%}
            {%- set measurements = rate_check_measurements(results) -%}
            {%- set relation = validation_history_relation() -%}
            {%- do adapter.create_schema(relation) -%}
            {%- do run_query(create_validation_history(relation)) -%}
            {%- set q = adapter.dispatch('history_quote', 'nba_analytics') -%}
            {%- set now = dbt.current_timestamp() -%}
            {%- set rate_tests = rate_check_test_names() -%}
            {%- set started = run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
            {%- set common = [
                history_literal(invocation_id, q),
                history_literal(started, q),
                history_literal(flags.WHICH, q),
                history_literal(target.name, q),
                history_literal(window_bounds().start, q),
                history_literal(window_bounds().end, q),
            ] -%}
            {%- set rows = [] -%}
            {%- for result in tests -%}
                {%- set node = result.node -%}
                {%- set test_name = node.test_metadata.name if node.test_metadata is not none else 'singular' -%}
                {%- set kwargs = node.test_metadata.kwargs if node.test_metadata is not none else {} -%}
                {%- set stored = measurements.get(node.relation_name or '', []) -%}
                {%- set tested = (node.refs[0].name if node.refs else (node.sources[0] | join('.') if node.sources else none)) -%}
                {%- if test_name in rate_tests -%}
                    {%- set m = stored[0] if stored else {} -%}
                    {%- set measured = m.get('measured_pct') -%}
                    {%- set unit = 'percent' -%}
                    {%- set band = [m.get('pass_min_pct'), m.get('pass_max_pct'), m.get('error_min_pct'), m.get('error_max_pct')] -%}
                    {%- set failing = (m.get('population_rows') - m.get('matching_rows')) if test_name == 'coverage_at_least' and m.get('population_rows') is not none
                        else m.get('matching_rows') -%}
                    {%- set population = m.get('population_rows') -%}
                {%- else -%}
                    {%- set measured = result.failures -%}
                    {%- set unit = 'failing rows' -%}
                    {%- set lo = history_resolve_var(kwargs.get('min_count', kwargs.get('min_value'))) -%}
                    {%- set hi = history_resolve_var(kwargs.get('max_count', kwargs.get('max_value', kwargs.get('max_gap_days')))) -%}
                    {%- set band = [lo, hi, none, none] -%}
                    {%- set failing = result.failures -%}
                    {%- set population = none -%}
                {%- endif -%}
                {%- set values = common + [
                    history_literal(node.name, q),
                    history_literal(node.description or none, q),
                    history_literal(test_name, q),
                    history_literal(tested, q),
                    history_literal(node.config.severity | lower, q),
                    history_literal(result.status, q),
                    history_number(measured),
                    history_literal(unit, q),
                    history_number(band[0]),
                    history_number(band[1]),
                    history_number(band[2]),
                    history_number(band[3]),
                    history_number(failing, integer=true),
                    history_number(population, integer=true),
                    history_literal(node.relation_name if node.config.store_failures else none, q),
                    history_number(result.execution_time),
                    now,
                ] -%}
                {%- do rows.append('(' ~ values | join(', ') ~ ')') -%}
            {%- endfor -%}
            {%- set names = [] -%}
            {%- for name, type in validation_history_columns() -%}
                {%- do names.append(name) -%}
            {%- endfor -%}
            {#- plain literals: both engines coerce them to the column types (ISO strings to
                date and timestamp) -#}
            {%- do run_query('insert into ' ~ relation ~ ' (' ~ names | join(', ') ~ ')\nvalues\n'
                             ~ rows | join(',\n')) -%}
            {%- do adapter.commit() if target.type != 'bigquery' -%}
            {%- do log('validation history: ' ~ rows | length ~ ' checks recorded in ' ~ relation, info=false) -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
