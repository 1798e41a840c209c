{#- Dialect differences, once. Each has a default__ (DuckDB/Postgres-style) and a bigquery__ variant. -#}

{#- True when `expr` matches the regular expression `pattern` (RE2 syntax on both engines). -#}
{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'nba_analytics')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro bigquery__regex_matches(expr, pattern) -%}
    regexp_contains({{ expr }}, r'^(?:{{ pattern }})$')
{%- endmacro %}

{#- The first capture group of `pattern` in `expr`; NULL when it does not match.
    Write patterns with exactly one capturing group (use (?:...) for the others). -#}
{% macro regex_capture(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_capture', 'nba_analytics')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_capture(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro bigquery__regex_capture(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, r'{{ pattern }}'), '')
{%- endmacro %}

{#- Replace every match of `pattern` in `expr`. -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'nba_analytics')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro bigquery__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, r'{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{#- Unicode NFKC, then diacritics removed (é -> e). -#}
{% macro strip_diacritics(expr) -%}
    {{ return(adapter.dispatch('strip_diacritics', 'nba_analytics')(expr)) }}
{%- endmacro %}

{% macro default__strip_diacritics(expr) -%}
    strip_accents(nfc_normalize({{ expr }}))
{%- endmacro %}

{#- NFKD is NFD of NFKC: compatibility forms folded and accents split off in one call. -#}
{% macro bigquery__strip_diacritics(expr) -%}
    regexp_replace(normalize({{ expr }}, nfkd), r'\pM', '')
{%- endmacro %}

{#- A date literal from an ISO string. -#}
{% macro date_literal(iso_date) -%}
    cast('{{ iso_date }}' as date)
{%- endmacro %}

{#- x / y, NULL when y is 0 or NULL. -#}
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'nba_analytics')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{% macro bigquery__safe_divide(numerator, denominator) -%}
    safe_divide({{ numerator }}, {{ denominator }})
{%- endmacro %}

{#- Every column of the row but `columns`: DuckDB's `* exclude (...)`, BigQuery's `* except (...)`. -#}
{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except', 'nba_analytics')(columns)) }}
{%- endmacro %}

{% macro default__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro bigquery__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}
