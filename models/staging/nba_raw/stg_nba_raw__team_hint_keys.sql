{{ config(tags=['ledger', 'window_independent']) }}
-- The gamebook's rows as the team-hint rule (int_box_scores_unified) matches them, every
-- version, not windowed: the player's suffix-less lookup, the game and its date, and the team
-- listed (NULL: a teamless row, which takes its team from a listing within var team_hint_days).
-- build_staleness uses it to find the dates a box-score change on another date can reach.
select distinct
    game_date,
    {{ normalize_game_id('game_id', 'home_team_abbr') }} as game_id,
    {{ lookup_without_suffix(normalize_lookup('player_lookup')) }} as hint_key,
    nullif(trim(team_abbr), '') as team_abbr
from {{ source('nba_raw', 'nbac_gamebook_player_stats') }}
where player_lookup is not null
    and game_id is not null
    and game_date is not null
