{#- Share (%) of rows where `column_name` is NULL, checked against a band:
    pass inside [pass_min, pass_max]; warn outside it; error below error_min / above error_max.
    Returns one measurement row; its severity_level (0/1/2) is the test's result.
    Example: minutes NULL share 35-45% pass, < 35% or 45-60% warn, > 60% error. -#}
{% test null_rate_in_band(model, column_name, pass_min=none, pass_max=none, error_min=none, error_max=none, row_condition='1 = 1') %}
    {{ config(fail_calc='coalesce(max(severity_level), 0)', warn_if='>= 1', error_if='>= 2') }}
    {{ share_band_sql(model, column_name ~ ' is null', row_condition, pass_min, pass_max, error_min, error_max) }}
{% endtest %}
