{#- Shot-zone classification of one field-goal attempt (domain.md 6.2).

    court_geometry (default): the NBA's own areas. Three when labelled a three; else, with
    coordinates (tenths of feet, basket at (0, 0)), paint when |x| <= 80 and y <= 137.5 (the
    16 ft lane up to the free-throw line); else mid-range. Without coordinates it falls back to
    the legacy distance rule.
    distance (legacy, var shot_zone_method: distance): paint when distance <= 8 ft; else three
    when labelled a three or distance >= 23.75 ft; else mid-range.
    NULL when nothing is known about the shot. -#}

{% macro _legacy_distance_zone(is_three_label, distance_ft) -%}
    case
        when {{ distance_ft }} <= 8 then 'paint'
        when {{ is_three_label }} or {{ distance_ft }} >= 23.75 then 'three'
        when {{ distance_ft }} is not null then 'mid_range'
    end
{%- endmacro %}

{% macro classify_shot_zone(is_three_label, x_tenths, y_tenths, distance_ft, method=none) -%}
    {%- set method = method or var('shot_zone_method', 'court_geometry') -%}
    {%- if method == 'distance' -%}
        {{ _legacy_distance_zone(is_three_label, distance_ft) }}
    {%- elif method == 'court_geometry' -%}
    case
        when {{ is_three_label }} then 'three'
        when {{ x_tenths }} is not null and {{ y_tenths }} is not null
            then case
                when abs({{ x_tenths }}) <= 80 and {{ y_tenths }} <= 137.5 then 'paint'
                else 'mid_range'
            end
        else {{ _legacy_distance_zone(is_three_label, distance_ft) }}
    end
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var shot_zone_method must be 'court_geometry' or 'distance', got '" ~ method ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- Which rule classified the shot: court_geometry (coordinates) or distance. -#}
{% macro shot_zone_method_used(x_tenths, y_tenths, method=none) -%}
    {%- set method = method or var('shot_zone_method', 'court_geometry') -%}
    {%- if method == 'distance' -%}
        'distance'
    {%- else -%}
        case when {{ x_tenths }} is not null and {{ y_tenths }} is not null
            then 'court_geometry' else 'distance' end
    {%- endif -%}
{%- endmacro %}

{#- 1 when the condition holds, else 0 (0 when there is no condition). -#}
{% macro flag_or_zero(condition) -%}
    {%- if condition is none -%}0{%- else -%}case when {{ condition }} then 1 else 0 end{%- endif -%}
{%- endmacro %}
