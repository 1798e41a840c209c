{#- Identifier rules (domain.md 2). -#}

{#- player_lookup: NFKC, diacritics stripped, lower-cased, only [a-z0-9] kept, and a leading
    numeric NBA-id prefix removed ('1630552jalenjohnson' -> 'jalenjohnson'). -#}
{% macro normalize_lookup(expr) -%}
    nullif({{ regex_replace_all(
        regex_replace_all('lower(' ~ strip_diacritics(expr) ~ ')', '[^a-z0-9]', ''),
        '^[0-9]+', '') }}, '')
{%- endmacro %}

{#- The lookup without a generational suffix, to match 'timhardaway' with 'timhardawayjr'
    (used only within one game and team). -#}
{% macro lookup_without_suffix(expr) -%}
    {{ regex_replace_all(expr, '(?:jr|sr|ii|iii|iv)$', '') }}
{%- endmacro %}

{#- Standard game id YYYYMMDD_AWAY_HOME, given the home team: an id written HOME_AWAY is
    swapped back. -#}
{% macro normalize_game_id(game_id, home_team_abbr) -%}
    case
        when {{ dbt.split_part(game_id, "'_'", 2) }} = {{ home_team_abbr }}
            then {{ dbt.concat([
                dbt.split_part(game_id, "'_'", 1), "'_'",
                dbt.split_part(game_id, "'_'", 3), "'_'",
                dbt.split_part(game_id, "'_'", 2)]) }}
        else {{ game_id }}
    end
{%- endmacro %}

{#- Standard game id from a date and the two tricodes. -#}
{% macro standard_game_id(game_date, away_team_abbr, home_team_abbr) -%}
    {{ dbt.concat([
        "replace(cast(" ~ game_date ~ " as " ~ dbt.type_string() ~ "), '-', '')", "'_'",
        away_team_abbr, "'_'", home_team_abbr]) }}
{%- endmacro %}

{#- Season year: the calendar year the season starts in (October or later -> that year). -#}
{% macro season_year(game_date) -%}
    case
        when {{ date_part_month(game_date) }} >= 10 then {{ date_part_year(game_date) }}
        else {{ date_part_year(game_date) }} - 1
    end
{%- endmacro %}

{% macro date_part_month(expr) -%}
    extract(month from {{ expr }})
{%- endmacro %}

{% macro date_part_year(expr) -%}
    extract(year from {{ expr }})
{%- endmacro %}

{#- The latest version of each key of `relation` (a CTE): raw tables are loaded by replacing one
    game at a time, so a key can appear with several processed_at. Keeps the row that ranks
    first by `order_by`, with every column but the rank; `where` filters rows before ranking. -#}
{% macro latest_version(relation, key_columns, order_by='processed_at desc', where=none) -%}
    select {{ star_except(['_version_rank']) }}
    from (
        select
            {{ relation }}.*,
            row_number() over (partition by {{ key_columns | join(', ') }} order by {{ order_by }})
                as _version_rank
        from {{ relation }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- The version of each game of a raw schedule relation that counts: the highest game_status
    (final over in progress over scheduled), then the latest processed_at. The one rule for the
    staging view and the tests that read the raw schedule. -#}
{% macro latest_schedule_version(relation) -%}
    {{ latest_version(relation, ['game_id'], 'game_status desc, processed_at desc') }}
{%- endmacro %}

{#- The away / home team of a standard game id (YYYYMMDD_AWAY_HOME). -#}
{% macro game_id_away_team(game_id) -%}
    {{ dbt.split_part(game_id, "'_'", 2) }}
{%- endmacro %}

{% macro game_id_home_team(game_id) -%}
    {{ dbt.split_part(game_id, "'_'", 3) }}
{%- endmacro %}

{#- The other team of a game, given one of its teams. -#}
{% macro opponent_team(game_id, team_abbr) -%}
    case
        when {{ team_abbr }} = {{ game_id_home_team(game_id) }} then {{ game_id_away_team(game_id) }}
        when {{ team_abbr }} = {{ game_id_away_team(game_id) }} then {{ game_id_home_team(game_id) }}
    end
{%- endmacro %}
