{#- Player identity within a game (domain.md 2): the one rule used wherever two sources meet
    (gamebook <-> BDL box scores, box score <-> each play-by-play source, the team-hint lookup).

    `player_identity_ctes(name, candidates, roster)` writes CTEs into the caller's WITH clause
    and ends with one named `name`: every key of `candidates` that names a player of `roster`,

        game_id, candidate_team_key, candidate_lookup, player_lookup, identity_match

    where candidate_lookup is the candidate's lookup as given, player_lookup the roster's, and
    candidate_team_key the candidate's team ('' when unknown). Both inputs are relations or CTEs
    with game_id, team_abbr (NULL when unknown) and player_lookup. Teams are compatible when
    equal or unknown on either side.

      exact   the same lookup (after normalize_lookup: NFKC, no diacritics) in the same game,
              on compatible teams; or on different team codes when that lookup names one
              entry on each side of the game (a bad team code must not split a player in two)
      suffix  no exact match; the same lookup without its generational suffix (jr, sr, ii, iii,
              iv) in the same game on compatible teams (never across teams): one roster player and one candidate lookup only, and that
              roster player not already claimed by an exact match. Ambiguous keys (two players
              of a base name) stay unmatched: two raw players never become one.

    A candidate key without a row here has no counterpart in the roster. -#}
{% macro player_identity_ctes(name, candidates, roster) -%}
{#- Each side's distinct keys first, then their normalised forms (computed once per distinct
    key, not per input row: the play-by-play gives millions of actor rows) and how many entries
    of that side share the exact key in the game (a window count, not a join back to counts). #}
{%- set sides = [
    ('candidates', candidates, 'candidate_lookup'),
    ('roster', roster, 'player_lookup'),
] %}
{%- for side, relation, lookup_as in sides %}
{{ name }}__{{ side }}_keys as (
    select distinct
        game_id,
        coalesce(team_abbr, '') as team_key,
        player_lookup as {{ lookup_as }}
    from {{ relation }}
    where player_lookup is not null
),

{{ name }}__{{ side }} as (
    select
        game_id,
        team_key,
        {{ lookup_as }},
        exact_key,
        {{ lookup_without_suffix('exact_key') }} as base_key,
        count(*) over (partition by game_id, exact_key) as entries
    from (
        select
            {{ name }}__{{ side }}_keys.*,
            {{ normalize_lookup(lookup_as) }} as exact_key
        from {{ name }}__{{ side }}_keys
    ) as keyed
),
{%- endfor %}

{{ name }}__exact as (
    select distinct
        {{ name }}__candidates.game_id,
        {{ name }}__candidates.team_key,
        {{ name }}__candidates.candidate_lookup,
        {{ name }}__roster.player_lookup
    from {{ name }}__candidates
    inner join {{ name }}__roster
        on {{ name }}__candidates.game_id = {{ name }}__roster.game_id
        and {{ name }}__candidates.exact_key = {{ name }}__roster.exact_key
    where {{ _identity_teams_compatible(name ~ '__candidates.team_key', name ~ '__roster.team_key') }}
        or ({{ name }}__candidates.entries = 1 and {{ name }}__roster.entries = 1)
),

{{ name }}__suffix_pairs as (
    select distinct
        {{ name }}__candidates.game_id,
        {{ name }}__candidates.team_key,
        {{ name }}__candidates.candidate_lookup,
        {{ name }}__roster.player_lookup
    from {{ name }}__candidates
    inner join {{ name }}__roster
        on {{ name }}__candidates.game_id = {{ name }}__roster.game_id
        and {{ name }}__candidates.base_key = {{ name }}__roster.base_key
        and {{ _identity_teams_compatible(name ~ '__candidates.team_key', name ~ '__roster.team_key') }}
    left join {{ name }}__exact as matched_candidate
        on {{ name }}__candidates.game_id = matched_candidate.game_id
        and {{ name }}__candidates.team_key = matched_candidate.team_key
        and {{ name }}__candidates.candidate_lookup = matched_candidate.candidate_lookup
    left join {{ name }}__exact as claimed_player
        on {{ name }}__roster.game_id = claimed_player.game_id
        and {{ name }}__roster.player_lookup = claimed_player.player_lookup
    where matched_candidate.candidate_lookup is null
        and claimed_player.player_lookup is null
),

{{ name }}__options_per_candidate as (
    select
        game_id,
        team_key,
        candidate_lookup,
        count(distinct player_lookup) as options
    from {{ name }}__suffix_pairs
    group by game_id, team_key, candidate_lookup
),

{{ name }}__options_per_player as (
    select
        game_id,
        player_lookup,
        count(distinct candidate_lookup) as options
    from {{ name }}__suffix_pairs
    group by game_id, player_lookup
),

{{ name }} as (
    select
        game_id,
        team_key as candidate_team_key,
        candidate_lookup,
        player_lookup,
        'exact' as identity_match
    from {{ name }}__exact
    union all
    select
        {{ name }}__suffix_pairs.game_id,
        {{ name }}__suffix_pairs.team_key as candidate_team_key,
        {{ name }}__suffix_pairs.candidate_lookup,
        {{ name }}__suffix_pairs.player_lookup,
        'suffix' as identity_match
    from {{ name }}__suffix_pairs
    inner join {{ name }}__options_per_candidate
        on {{ name }}__suffix_pairs.game_id = {{ name }}__options_per_candidate.game_id
        and {{ name }}__suffix_pairs.team_key = {{ name }}__options_per_candidate.team_key
        and {{ name }}__suffix_pairs.candidate_lookup = {{ name }}__options_per_candidate.candidate_lookup
    inner join {{ name }}__options_per_player
        on {{ name }}__suffix_pairs.game_id = {{ name }}__options_per_player.game_id
        and {{ name }}__suffix_pairs.player_lookup = {{ name }}__options_per_player.player_lookup
    where {{ name }}__options_per_candidate.options = 1
        and {{ name }}__options_per_player.options = 1
)
{%- endmacro %}

{#- Two team keys ('' = unknown) that may name the same player's team. -#}
{% macro _identity_teams_compatible(left, right) -%}
    ({{ left }} = {{ right }} or {{ left }} = '' or {{ right }} = '')
{%- endmacro %}
