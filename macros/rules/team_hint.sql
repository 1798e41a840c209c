{#- The team-hint rule (int_box_scores_unified): a row without a team takes the player's team
    from his nearest listing within var team_hint_days (either side), among the two teams of
    the game.

    team_hint_period(date): the period of a date for the join that finds those listings: days
    since 1970 divided by team_hint_days (at least 1), rounded down. A listing within
    team_hint_days of a date lies in that date's period or one of the two around it, so the join
    reads each player's listings of those three periods only, not every listing in the window (a
    join on the player alone grows with the square of the window's length). The rule itself is
    the filter on the distance in days, applied after the join. -#}
{% macro team_hint_period(date_column) -%}
    {%- set period_days = [var('team_hint_days', 30) | int, 1] | max -%}
    cast(floor({{ dbt.datediff("cast('1970-01-01' as date)", date_column, 'day') }} / {{ period_days }}) as {{ dbt.type_bigint() }})
{%- endmacro %}
