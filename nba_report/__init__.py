"""The quality report of nba_analytics.player_game_summary: `python -m nba_report`.

One self-contained HTML file (inline SVG plots, no script, nothing fetched from the network)
for a window: completeness by date, NULL-minutes share and zone coverage against their bands,
rows per game, the usage-rate distribution, the checks and their history (the
nba_monitoring.validation_history table the project's on-run-end hook fills), the backfill
runs, and spot checks against the raw gamebook. See docs/quality_report.md.
"""
