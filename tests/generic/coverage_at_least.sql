{#- Share (%) of the `population` rows for which `condition` holds (NULL counts as not),
    at least `pass_min` to pass, at least `error_min` to avoid an error (between: warn).
    Returns one measurement row; its severity_level (0/1/2) is the test's result.
    Example: shot-zone coverage of active rows with minutes >= 85% pass, 70-85% warn, < 70% error. -#}
{% test coverage_at_least(model, condition, pass_min, error_min=none, population='1 = 1') %}
    {{ config(fail_calc='coalesce(max(severity_level), 0)', warn_if='>= 1', error_if='>= 2') }}
    {{ share_band_sql(model, condition, population, pass_min, none, error_min, none) }}
{% endtest %}
