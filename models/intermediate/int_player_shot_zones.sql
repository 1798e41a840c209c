-- Shot zones per (game, player) from the chosen play-by-play: attempts and makes by zone,
-- assisted / unassisted makes, and-ones, and blocks by the zone of the blocked shot.
-- Every actor of a game with play-by-play gets a row; the mart gives 0s to the rest of the
-- game's players. identity_suffix_matches counts the player's shots and blocks whose
-- play-by-play name was matched to his box score by its suffix-less form.
with events as (
    select * from {{ ref('int_pbp_events') }}
),

field_goals as (
    select
        game_id,
        shot_zone_source,
        shooter_lookup,
        block_lookup,
        assist_lookup,
        shot_made,
        shooter_identity_match,
        block_identity_match,
        {{ classify_shot_zone('is_three_label', 'x_tenths', 'y_tenths', 'shot_distance_ft') }} as zone,
        {{ shot_zone_method_used('x_tenths', 'y_tenths') }} as zone_method
    from events
    where event_kind = 'field_goal'
),

{#- One row per contribution of a player, summed below: a shot taken, a shot blocked, an
    and-one. Each branch sets the measures it contributes; the others are 0. -#}
{%- set measures = [
    'paint_attempts', 'paint_makes', 'mid_range_attempts', 'mid_range_makes',
    'three_attempts_pbp', 'three_makes_pbp', 'unclassified_attempts',
    'assisted_fg_makes', 'unassisted_fg_makes', 'distance_rule_shots',
    'and1_count', 'paint_blocks', 'mid_range_blocks', 'three_pt_blocks', 'identity_suffix_matches',
] %}
{%- set shot_taken = {
    'paint_attempts': "zone = 'paint'",
    'paint_makes': "zone = 'paint' and shot_made",
    'mid_range_attempts': "zone = 'mid_range'",
    'mid_range_makes': "zone = 'mid_range' and shot_made",
    'three_attempts_pbp': "zone = 'three'",
    'three_makes_pbp': "zone = 'three' and shot_made",
    'unclassified_attempts': "zone is null",
    'assisted_fg_makes': "shot_made and assist_lookup is not null",
    'unassisted_fg_makes': "shot_made and assist_lookup is null",
    'distance_rule_shots': "zone_method = 'distance'",
    'identity_suffix_matches': "shooter_identity_match = 'suffix'",
} %}
{%- set shot_blocked = {
    'paint_blocks': "zone = 'paint'",
    'mid_range_blocks': "zone = 'mid_range'",
    'three_pt_blocks': "zone = 'three'",
    'identity_suffix_matches': "block_identity_match = 'suffix'",
} %}
{%- set and_one = {'and1_count': "true", 'identity_suffix_matches': "shooter_identity_match = 'suffix'"} %}

contributions as (
    select
        {%- for m in measures %}
        {{ flag_or_zero(shot_taken.get(m)) }} as {{ m }},
        {%- endfor %}
        game_id,
        shot_zone_source,
        shooter_lookup as player_lookup
    from field_goals
    where shooter_lookup is not null
    union all
    select
        {%- for m in measures %}
        {{ flag_or_zero(shot_blocked.get(m)) }} as {{ m }},
        {%- endfor %}
        game_id,
        shot_zone_source,
        block_lookup as player_lookup
    from field_goals
    where block_lookup is not null and not shot_made
    union all
    select
        {%- for m in measures %}
        {{ flag_or_zero(and_one.get(m)) }} as {{ m }},
        {%- endfor %}
        game_id,
        shot_zone_source,
        shooter_lookup as player_lookup
    from events
    where event_kind = 'free_throw' and is_and1_free_throw and shooter_lookup is not null
),

final as (
    select
        game_id,
        player_lookup,
        shot_zone_source,
        {%- for m in measures %}
        cast(sum({{ m }}) as {{ dbt.type_bigint() }}) as {{ m }},
        {%- endfor %}
        count(*) as contribution_rows
    from contributions
    group by game_id, player_lookup, shot_zone_source
)

select * from final
