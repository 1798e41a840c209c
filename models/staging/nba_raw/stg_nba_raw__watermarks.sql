{{ config(tags=['ledger', 'window_independent']) }}
-- The input watermark of every raw table per game_date: rows (every version, so a correction
-- or a reload adds rows) and the latest processed_at. Over all raw data, not windowed: the
-- staleness view compares every date; the ledger filters to its window (a filter on the
-- grouping column, pushed below the aggregation). Reads game_date and processed_at only.
{%- for t in ledger_raw_tables() %}
select
    '{{ t.name }}' as raw_table,
    game_date,
    count(*) as raw_rows,
    max(processed_at) as max_processed_at
from {{ source('nba_raw', t.name) }}
where game_date is not null
group by game_date
{{ 'union all' if not loop.last }}
{%- endfor %}
