{#- Share (%) of the `population` rows for which `condition` holds (NULL counts as not),
    checked against a band: pass inside [pass_min, pass_max]; warn outside it; error below
    error_min / above error_max (each bound optional).
    Returns one measurement row; its severity_level (0/1/2) is the test's result.
    Example: player-games matched by the suffix-less name, of those matched across sources,
    at most 10% (above: warn). -#}
{% test share_in_band(model, condition, population='1 = 1', pass_min=none, pass_max=none, error_min=none, error_max=none) %}
    {{ config(fail_calc='coalesce(max(severity_level), 0)', warn_if='>= 1', error_if='>= 2') }}
    {{ share_band_sql(model, condition, population, pass_min, pass_max, error_min, error_max) }}
{% endtest %}
