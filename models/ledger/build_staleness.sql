{#- Staleness: every date with raw rows or a ledger row, compared with what the ledger says it
    was built from. Not windowed: the current watermarks come from all raw data
    (stg_nba_raw__watermarks). states (first that applies):
    - scheduled: only schedule rows, none of its games started (every schedule version
      status 1) and no mart rows: games not played yet (a date after the clock), nothing to
      build ('not played yet'; refresh leaves it, and a build would make an empty day);
    - missing: raw rows, never built ('never built'), or built when it had no mart rows and now
      has box-score rows ('new games': a scheduled day whose games were played since);
    - stale: a raw table's watermark (rows of all versions, max processed_at) differs from the
      ledger's: reason by the tables' category ('late play-by-play', 'box-score correction',
      'schedule change', 'raw rows removed' when a table has fewer rows than it was built
      from; several joined by ' + '); or a dependent date ('team-hint neighbour'): within
      team_hint_days of a date whose gamebook moved, holding a gamebook row without a team
      (in any version) whose suffix-less lookup the moved date lists with one of this game's
      two teams (in any version): exactly the rows int_box_scores_unified may take a team from
      that date for, when that listing is no farther than the nearest listing on a date that
      did not move (the rule takes the nearest). Play-by-play changes reach only their own date;
    - changed_logic: built by another project fingerprint, otherwise fresh ('logic change');
    - fresh ('').
    current_fingerprint is the project's when this view was created (dbt run it again after a
    code change). -#}
{{ config(materialized='view', tags=['ledger', 'window_independent']) }}

{%- set tables = ledger_raw_tables() %}
{%- set categories = [] %}
{%- for t in tables if t.category not in categories %}{% do categories.append(t.category) %}{% endfor %}
{#- the reason's parts, in order: a flag over the tables' columns and its label -#}
{%- set reason_parts = [{
    'flag': '(' ~ (tables | map(attribute='name') | map('string') | list | join('__removed or ')) ~ '__removed)',
    'label': 'raw rows removed'}] %}
{%- for category in categories %}
{%- set names = [] %}
{%- for t in tables if t.category == category %}{% do names.append(t.name ~ '__moved') %}{% endfor %}
{%- do reason_parts.append({'flag': '(' ~ names | join(' or ') ~ ')', 'label': category}) %}
{%- endfor %}

with watermarks as (
    select * from {{ ref('stg_nba_raw__watermarks') }}
),

current_inputs as (
    {{ ledger_pivot_watermarks('watermarks') }}
),

ledger as (
    select * from {{ ref('build_ledger') }}
),

-- Dates with a game that started (a schedule version with status 2 in progress or 3 final).
played as (
    select game_date
    from {{ source('nba_raw', 'nbac_schedule') }}
    where game_status > 1
    group by game_date
),

compared as (
    select
        coalesce(current_inputs.game_date, ledger.game_date) as game_date,
        ledger.game_date is not null as is_built,
        ledger.built_at,
        ledger.project_fingerprint as built_fingerprint,
        ledger.mart_rows,
        {%- for t in tables if t.category == 'box-score correction' %}
        coalesce(current_inputs.{{ t.name }}__rows, 0){{ ' + ' if not loop.last }}
        {%- endfor %} as current_box_rows,
        {%- for t in tables if t.name != 'nbac_schedule' %}
        coalesce(current_inputs.{{ t.name }}__rows, 0){{ ' + ' if not loop.last }}
        {%- endfor %} as current_game_rows,
        played.game_date is not null as has_played,
        {%- for t in tables %}
        ledger.game_date is not null and (
            coalesce(current_inputs.{{ t.name }}__rows, 0) != ledger.{{ t.name }}__rows
            or current_inputs.{{ t.name }}__max_processed_at is distinct from ledger.{{ t.name }}__max_processed_at
        ) as {{ t.name }}__moved,
        coalesce(current_inputs.{{ t.name }}__rows, 0) < coalesce(ledger.{{ t.name }}__rows, 0)
            as {{ t.name }}__removed,
        '{{ t.name }} rows ' || cast(coalesce(ledger.{{ t.name }}__rows, 0) as {{ dbt.type_string() }})
        || ' -> ' || cast(coalesce(current_inputs.{{ t.name }}__rows, 0) as {{ dbt.type_string() }})
        || ', max processed_at ' || {{ ledger_format_ts('ledger.' ~ t.name ~ '__max_processed_at') }}
        || ' -> ' || {{ ledger_format_ts('current_inputs.' ~ t.name ~ '__max_processed_at') }}
            as {{ t.name }}__change,
        {%- endfor %}
        {%- for t in tables %}
        coalesce(current_inputs.{{ t.name }}__rows, 0){{ ' + ' if not loop.last }}
        {%- endfor %} as current_raw_rows
    from current_inputs
    full outer join ledger
        on current_inputs.game_date = ledger.game_date
    left join played
        on coalesce(current_inputs.game_date, ledger.game_date) = played.game_date
),

-- Dates whose gamebook moved, and the dates the team-hint rule can reach from them.
hint_changed as (
    select game_date from compared
    where nbac_gamebook_player_stats__moved
),

hint_keys as (
    select * from {{ ref('stg_nba_raw__team_hint_keys') }}
),

-- A teamless row takes the team of the nearest listing (ties: the earlier date), so a moved
-- date reaches it only when one of its listings (any version) is no farther than the nearest
-- listing on a date that did not move.
hint_candidates as (
    select
        teamless.game_date,
        teamless.game_id,
        teamless.hint_key,
        listing.game_date as listing_date,
        hint_changed.game_date is not null as listing_moved,
        abs({{ dbt.datediff('teamless.game_date', 'listing.game_date', 'day') }}) as days_away
    from hint_keys as teamless
    inner join hint_keys as listing
        on teamless.hint_key = listing.hint_key
        and listing.team_abbr in (
            {{ game_id_away_team('teamless.game_id') }}, {{ game_id_home_team('teamless.game_id') }}
        )
    left join hint_changed
        on listing.game_date = hint_changed.game_date
    where teamless.team_abbr is null
        and teamless.game_date != listing.game_date
        and abs({{ dbt.datediff('teamless.game_date', 'listing.game_date', 'day') }})
        <= {{ var('team_hint_days', 30) }}
),

hint_reach as (
    select
        game_date,
        game_id,
        hint_key,
        min(case when listing_moved then days_away end) as nearest_moved,
        min(case when not listing_moved then days_away end) as nearest_unmoved
    from hint_candidates
    group by game_date, game_id, hint_key
),

hint_neighbours as (
    select distinct game_date
    from hint_reach
    where nearest_moved <= coalesce(nearest_unmoved, {{ var('team_hint_days', 30) }})
),

flagged as (
    select
        compared.*,
        hint_neighbours.game_date is not null as is_hint_neighbour,
        coalesce(compared.mart_rows, 0) = 0 and compared.current_game_rows = 0
        and not compared.has_played as is_scheduled,
        {%- for t in tables %}
        {{ t.name }}__moved{{ ' or ' if not loop.last }}
        {%- endfor %} as any_moved,
        substr(
            {%- for t in tables %}
            case when {{ t.name }}__moved then '; ' || {{ t.name }}__change else '' end
            {{- ' ||' if not loop.last }}
            {%- endfor %},
            3
        ) as stale_tables,
        substr(
            {%- for part in reason_parts %}
            case when {{ part.flag }} then ' + {{ part.label }}' else '' end
            {{- ' ||' if not loop.last }}
            {%- endfor %},
            4
        ) as moved_reasons
    from compared
    left join hint_neighbours
        on compared.game_date = hint_neighbours.game_date
),

final as (
    select
        game_date,
        case
            when is_scheduled then 'scheduled'
            when not is_built or (mart_rows = 0 and current_box_rows > 0) then 'missing'
            when any_moved or is_hint_neighbour then 'stale'
            when built_fingerprint != '{{ project_fingerprint() }}' then 'changed_logic'
            else 'fresh'
        end as state,
        case
            when is_scheduled then 'not played yet'
            when not is_built then 'never built'
            when mart_rows = 0 and current_box_rows > 0 then 'new games'
            when any_moved then moved_reasons
            when is_hint_neighbour then 'team-hint neighbour'
            when built_fingerprint != '{{ project_fingerprint() }}' then 'logic change'
            else ''
        end as reason,
        coalesce(stale_tables, '') as stale_tables,
        built_at,
        built_fingerprint,
        cast('{{ project_fingerprint() }}' as {{ dbt.type_string() }}) as current_fingerprint
    from flagged
    where current_raw_rows > 0 or is_built
)

select * from final
