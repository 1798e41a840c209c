{#- Plus-minus from an int or a string (domain.md 5.2): '+7' -> 7, '-14' -> -14, '7.0' -> 7,
    '0' -> 0 (zero stays zero); NULL, '', '-' and anything else -> NULL. -#}
{% macro parse_plus_minus(expr) -%}
    {%- set s = 'trim(' ~ dbt.safe_cast(expr, dbt.type_string()) ~ ')' -%}
    case
        when {{ regex_matches(s, '[+-]?\d{1,3}(?:\.0+)?') }}
            then cast({{ regex_capture(s, '^[+-]?(\d+)') }} as {{ dbt.type_bigint() }})
                * case when {{ s }} like '-%' then -1 else 1 end
    end
{%- endmacro %}
