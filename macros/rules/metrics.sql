{#- Derived metrics (domain.md 7). All NULL-safe; 0.0 stays 0.0. -#}

{#- eFG% = (FGM + 0.5 * 3PM) / FGA when FGA > 0, 3 dp. -#}
{% macro efg_pct(fgm, three_pm, fga) -%}
    cast(round({{ safe_divide(fgm ~ ' + 0.5 * ' ~ three_pm, 'cast(' ~ fga ~ ' as ' ~ dbt.type_float() ~ ')') }}, 3)
        as numeric(5, 3))
{%- endmacro %}

{#- TS% = PTS / (2 * (FGA + 0.44 * FTA)) when that denominator > 0, 3 dp. -#}
{% macro ts_pct(pts, fga, fta) -%}
    cast(round({{ safe_divide(pts, '2 * (' ~ fga ~ ' + 0.44 * ' ~ fta ~ ')') }}, 3) as numeric(5, 3))
{%- endmacro %}

{#- Usage rate = 100 * (FGA + 0.44 FTA + TOV) * (team_minutes / 5)
                 / (minutes * (team FGA + 0.44 team FTA + team TOV)),
    with the team's real minutes (265 with one overtime: the legacy 48 overstated OT usage).
    NULL when minutes are 0/NULL or the team totals are missing. Never dropped when high. -#}
{% macro usage_rate(fga, fta, tov, minutes, team_fga, team_fta, team_tov, team_minutes) -%}
    cast(round(
        case when {{ minutes }} > 0 then
            {{ safe_divide(
                '100 * (' ~ fga ~ ' + 0.44 * ' ~ fta ~ ' + ' ~ tov ~ ') * (' ~ team_minutes ~ ' / 5.0)',
                'cast(' ~ minutes ~ ' as ' ~ dbt.type_float() ~ ') * ('
                    ~ team_fga ~ ' + 0.44 * ' ~ team_fta ~ ' + ' ~ team_tov ~ ')') }}
        end, 2) as numeric(6, 2))
{%- endmacro %}
