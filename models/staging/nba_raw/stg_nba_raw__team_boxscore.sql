-- Team totals, two rows per game; ids written HOME_AWAY are normalised to AWAY_HOME.
with source as (
    select * from {{ source('nba_raw', 'nbac_team_boxscore') }}
    where {{ in_window('game_date') }}
),

id_parts as (
    select
        source.*,
        {{ dbt.split_part('game_id', "'_'", 2) }} as id_team_a,
        {{ dbt.split_part('game_id', "'_'", 3) }} as id_team_b
    from source
),

normalized as (
    select
        {{ normalize_game_id(
            'game_id',
            'case when is_home then team_abbr when id_team_a = team_abbr then id_team_b else id_team_a end'
        ) }} as game_id,
        trim(team_abbr) as team_abbr,
        game_date,
        season_year,
        is_home,
        minutes as minutes_raw,
        {{ parse_minutes('minutes') }} as team_minutes,
        {{ minutes_parse_status('minutes') }} as minutes_parse_status,
        fg_made,
        fg_attempted,
        three_pt_made,
        three_pt_attempted,
        ft_made,
        ft_attempted,
        offensive_rebounds,
        defensive_rebounds,
        total_rebounds,
        assists,
        steals,
        blocks,
        turnovers,
        personal_fouls,
        points,
        processed_at
    from id_parts
),

final as (
    {{ latest_version('normalized', ['game_id', 'team_abbr']) }}
)

select * from final
