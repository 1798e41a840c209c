{#- dnp_reason_category by keyword in the lower-cased reason, first hit wins (domain.md 4). -#}
{% macro dnp_reason_category(reason) -%}
    {%- set r = 'lower(' ~ reason ~ ')' -%}
    {%- set categories = [
        ('injury', ['injury', 'illness', 'sprain', 'strain', 'sore', 'surgery', 'knee', 'ankle',
                    'back', 'hamstring', 'foot', 'hip', 'wrist', 'hand', 'shoulder', 'concussion',
                    'calf', 'groin', 'achilles', 'fracture', 'protocol']),
        ('rest', ['rest', 'load management', 'recovery']),
        ('personal', ['personal', 'family', 'bereavement']),
        ('coach_decision', ['coach', 'decision', 'not with team', 'suspension']),
    ] -%}
    case
        when {{ reason }} is null or trim({{ reason }}) = '' then null
        {%- for name, words in categories %}
        when {% for w in words %}{{ r }} like '%{{ w }}%'{% if not loop.last %} or {% endif %}{% endfor %}
            then '{{ name }}'
        {%- endfor %}
        else 'other'
    end
{%- endmacro %}
