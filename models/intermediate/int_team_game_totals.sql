-- Team totals per (game, team) with the opponent's points and the game's real length
-- (team minutes 240 in regulation, +25 per overtime), for usage rate and win_flag.
-- Points fall back to the schedule's final score when the team box score is missing.
with team_box as (
    select * from {{ ref('stg_nba_raw__team_boxscore') }}
),

schedule as (
    select * from {{ ref('stg_nba_raw__schedule') }}
),

schedule_teams as (
    select game_id, home_team_abbr as team_abbr, home_team_score as points, away_team_score as opponent_points
    from schedule
    where is_final
    union all
    select game_id, away_team_abbr as team_abbr, away_team_score as points, home_team_score as opponent_points
    from schedule
    where is_final
),

final as (
    select
        coalesce(team_box.game_id, schedule_teams.game_id) as game_id,
        coalesce(team_box.team_abbr, schedule_teams.team_abbr) as team_abbr,
        team_box.team_minutes,
        team_box.fg_attempted as team_fg_attempts,
        team_box.ft_attempted as team_ft_attempts,
        team_box.turnovers as team_turnovers,
        coalesce(team_box.points, schedule_teams.points) as points,
        coalesce(opponent.points, schedule_teams.opponent_points) as opponent_points
    from team_box
    left join team_box as opponent
        on team_box.game_id = opponent.game_id
        and team_box.team_abbr != opponent.team_abbr
    full outer join schedule_teams
        on team_box.game_id = schedule_teams.game_id
        and team_box.team_abbr = schedule_teams.team_abbr
)

select * from final
