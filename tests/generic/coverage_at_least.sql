{#- Share (%) of the `population` rows for which `condition` holds (NULL counts as not),
    at least `pass_min` to pass, at least `error_min` to avoid an error (between: warn).
    Returns one measurement row; its severity_level (0/1/2) is the test's result.
    Example: shot-zone coverage of active rows with minutes >= 85% pass, 70-85% warn, < 70% error.
    leave_out_pending_games: true leaves the rows of games whose play-by-play is still pending
    (the late-data rule, macros/late_data.sql) out of the population; overdue games count. -#}
{% test coverage_at_least(model, condition, pass_min, error_min=none, population='1 = 1', leave_out_pending_games=false) %}
    {{ config(fail_calc='coalesce(max(severity_level), 0)', warn_if='>= 1', error_if='>= 2') }}
    {%- set scope = population %}
    {%- if leave_out_pending_games %}
        {%- set scope = '(' ~ population ~ ') and not ' ~ late_data_pending() %}
    {%- endif %}
    {{ share_band_sql(model, condition, scope, pass_min, none, error_min, none) }}
{% endtest %}
