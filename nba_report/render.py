"""The report as one self-contained HTML page: inline CSS and SVG, no script, no link out."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from nba_report import plots
from nba_report.data import ReportData
from nba_report.warehouse import Row

_STATUS_RANK = {"error": 0, "fail": 1, "warn": 2, "skipped": 3, "pass": 4}
_SYMBOL = {
    "pass": "\u25cf",
    "warn": "\u25b2",
    "fail": "\u2716",
    "error": "\u2716",
    "skipped": "\u25a0",
}
_IDENTITY = {
    "exact": "on the exact lookup",
    "suffix": "by the suffix-less name",
    "single_source": "in one source only",
}
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)

CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 1.5em auto; max-width: 1100px;
       color: #212121; font-size: 14px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
p.answers { color: #424242; font-style: italic; margin: 0.2em 0 0.6em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: bold; white-space: nowrap; }
.status-pass { color: #2e7d32; } .status-warn { color: #e65100; }
.status-fail, .status-error { color: #b71c1c; background: #ffebee; }
.status-skipped { color: #757575; }
.pair { display: flex; gap: 1em; flex-wrap: wrap; } .plot svg { max-width: 100%; height: auto; }
.summary span { display: inline-block; margin-right: 1.5em; } .muted { color: #757575; }
table.checks td:nth-child(2) { max-width: 300px; overflow-wrap: anywhere; }
table.checks td:nth-child(3) { max-width: 380px; }
table.checks td:nth-child(5) { min-width: 110px; }
table.checks td:nth-child(7) { max-width: 220px; overflow-wrap: anywhere; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return ""
    f = float(value)
    return str(int(f)) if f.is_integer() else f"{f:.{digits}f}"


def status_cell(status: str) -> str:
    label = plots.STATUS_STYLE.get(status, ("", "", status.upper()))[2]
    return f'<td class="status status-{_e(status)}">{_SYMBOL.get(status, "?")} {_e(label)}</td>'


def _level_cell(pct: Any, level: Any) -> str:
    """A day's share with its level; no share (nothing in scope) is not a PASS."""
    if pct is None:
        return '<td class="muted">no rows in scope</td>'
    return status_cell(plots.LEVEL_STATUS[int(level)])[: -len("</td>")] + f" {_num(pct)}</td>"


def _partial(data: ReportData, row: Row) -> str:
    """A warning when the run shown validated only part of the report's window."""
    if data.covers_window(row):
        return ""
    return (
        f' <b class="status-warn">only part of this report\'s window: no run validated all of'
        f" {data.start}..{data.end} (python -m driver validate --start-date {data.start}"
        f" --end-date {data.end})</b>"
    )


def band_text(row: Row) -> str:
    """The band of a history row, in words (numbers from nba_monitoring.validation_history)."""
    lo, hi = row.get("band_min"), row.get("band_max")
    emin, emax = row.get("error_min"), row.get("error_max")
    if row.get("measured_unit") == "percent":
        parts = []
        if lo is not None and hi is not None:
            parts.append(f"pass {_num(lo)}-{_num(hi)} %")
        elif lo is not None:
            parts.append(f"pass >= {_num(lo)} %")
        if emin is not None and emin != lo:
            parts.append(f"error < {_num(emin)} %")
        if emax is not None:
            parts.append(f"error > {_num(emax)} %")
        return "; ".join(parts)
    if lo is not None and hi is not None:
        return _num(lo) if lo == hi else f"{_num(lo)}..{_num(hi)}"
    if lo is not None:
        return f">= {_num(lo)}"
    if hi is not None:
        return f"<= {_num(hi)}"
    return "no failing rows"


def measured_text(row: Row) -> str:
    value = row.get("measured_value")
    if value is None:
        return "not measured" if row.get("status") != "error" else "did not run"
    if row.get("measured_unit") == "percent":
        return f"{float(value):.2f} %"
    return f"{_num(value)} failing"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'


def _td(value: Any, num: bool = False) -> str:
    return f'<td class="num">{_e(value)}</td>' if num else f"<td>{_e(value)}</td>"


def _plot(svg: str, gid: str) -> str:
    return f'<div class="plot" id="{gid}">{_METADATA.sub("", svg)}</div>'


def _section(anchor: str, title: str, answers: str, body: str) -> str:
    return (
        f'<section id="{anchor}"><h2>{_e(title)}</h2>'
        f'<p class="answers">{_e(answers)}</p>\n{body}\n</section>'
    )


def _overview(data: ReportData) -> str:
    final = sum(int(d["games_scheduled_final"] or 0) for d in data.days)
    built = sum(int(d["games_built"] or 0) for d in data.days)
    missing = sum(int(d["games_final_missing"] or 0) for d in data.days)
    rows = sum(int(d["row_count"] or 0) for d in data.days)
    latest = data.latest_checks
    counts = Counter(r["status"] for r in latest)
    checks = ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items(), key=lambda i: _STATUS_RANK.get(i[0], 9))
    )
    items = [
        f"<span><b>{len(data.days)}</b> game days</span>",
        f"<span><b>{built}</b> games built of <b>{final}</b> final scheduled"
        f" ({missing} missing)</span>",
        f"<span><b>{rows:,}</b> rows</span>",
        f"<span>latest validation: <b>{_e(checks or 'none recorded')}</b>"
        f"{' (of part of the window only)' if latest and not data.covers_window(latest[0]) else ''}"
        "</span>",
    ]
    pending = sum(int(d.get("games_zone_pending") or 0) for d in data.days)
    if pending:
        items.append(
            f"<span><b>{pending}</b> games awaiting play-by-play (pending: not in the zone"
            " coverage until it lands or is overdue)</span>"
        )
    identity = {k: sum(int(d.get(f"identity_{k}_rows") or 0) for d in data.days) for k in _IDENTITY}
    if any(identity.values()):
        items.append(
            "<span>players matched across box-score sources: "
            + ", ".join(f"<b>{n:,}</b> {_IDENTITY[k]}" for k, n in identity.items())
            + "</span>"
        )
    flagged = [
        d
        for d in data.days
        if d["games_final_missing"] or d["minutes_null_level"] == 2 or d["zone_coverage_level"] == 2
    ]
    table = ""
    if flagged:
        table = "<p>Days with missing games or a share in its error band:</p>" + _table(
            [
                "game date",
                "final games",
                "built",
                "missing",
                "rows",
                "minutes NULL %",
                "zone coverage %",
            ],
            (
                [
                    _td(f"{d['game_date']:%Y-%m-%d}"),
                    _td(d["games_scheduled_final"], True),
                    _td(d["games_built"], True),
                    _td(d["games_final_missing"], True),
                    _td(d["row_count"], True),
                    _level_cell(d["minutes_null_pct"], d["minutes_null_level"]),
                    _level_cell(d["zone_coverage_pct"], d["zone_coverage_level"]),
                ]
                for d in flagged[:40]
            ),
            "flagged-days",
        )
    return f'<div class="summary">{"".join(items)}</div>{table}'


def _checks(data: ReportData) -> str:
    if not data.history_available:
        return (
            '<p class="muted">No validation history in this warehouse yet: it is written by '
            "every dbt build / dbt test that runs the data tests (on-run-end hook "
            "record_validation_history).</p>"
        )
    latest = sorted(
        data.latest_checks, key=lambda r: (_STATUS_RANK.get(r["status"], 9), r["check_name"])
    )
    if not latest:
        return '<p class="muted">No validation run covers this window yet.</p>'
    first = latest[0]
    window = (
        f"{first['window_start']}..{first['window_end']}" if first["window_start"] else "all dates"
    )
    head = (
        f"<p>Latest validation run <code>{_e(first['run_id'])}</code> "
        f"(dbt {_e(first['dbt_command'])}, {first['run_started_at']:%Y-%m-%d %H:%M:%S} UTC, "
        f"window {_e(window)}, target {_e(first['target_name'])}){_partial(data, first)}:</p>"
    )
    table = _table(
        ["status", "check", "what it checks", "measured", "band", "failing rows", "stored in"],
        (
            [
                status_cell(r["status"]),
                _td(r["check_name"]),
                _td(r["check_description"] or r["test_name"]),
                _td(measured_text(r), True),
                _td(band_text(r)),
                _td("" if r["failing_rows"] is None else r["failing_rows"], True),
                _td(_stored_table(r) if r["status"] != "pass" else ""),
            ]
            for r in latest
        ),
        "checks",
    )
    return head + table


def _stored_table(row: Row) -> str:
    """Where dbt kept the failing rows, without the quoting: schema.table."""
    relation = str(row.get("failures_relation") or "").replace('"', "").replace("`", "")
    return ".".join(relation.split(".")[-2:])


def _history(data: ReportData) -> str:
    runs: dict[str, list[Row]] = {}
    for r in data.history:
        runs.setdefault(r["run_id"], []).append(r)
    if not runs:
        return '<p class="muted">No validation runs recorded for this window.</p>'
    svg = plots.check_history(data)
    rows = []
    for i, (run_id, checks) in enumerate(runs.items()):
        counts = Counter(c["status"] for c in checks)
        first = checks[0]
        worst = min(counts, key=lambda s: _STATUS_RANK.get(s, 9))
        window = (
            f"{first['window_start']}..{first['window_end']}" if first["window_start"] else "all"
        )
        rows.append(
            [
                _td(i + 1, True),
                status_cell(worst),
                _td(f"{first['run_started_at']:%Y-%m-%d %H:%M:%S}"),
                _td(first["dbt_command"]),
                _td(window),
                _td(len(checks), True),
                _td(", ".join(f"{n} {s}" for s, n in sorted(counts.items()))),
                _td(str(run_id)[:8]),
            ]
        )
    table = _table(
        ["#", "worst", "started (UTC)", "dbt", "window", "checks", "statuses", "run id"],
        rows[::-1],
        "runs",
    )
    plot = (
        _plot(svg, "plot-check-history")
        if svg
        else ('<p class="muted">Every check passed in every run.</p>')
    )
    return plot + table


def _backfill(data: ReportData) -> str:
    if not data.backfill_runs:
        return (
            '<p class="muted">No backfill run reports (run_*.json) for this window in the '
            "runs directory: section skipped.</p>"
        )
    svg = plots.run_timings(data)
    rows = [
        [
            _td(run.started_at),
            _td(run.target),
            _td(run.window),
            _td(len(run.chunks), True),
            _td(run.days, True),
            _td(_num(run.seconds, 1), True),
            _td(f"{run.days_per_hour:,.0f}" if run.days_per_hour else "", True),
            status_cell("pass" if run.exit_code == 0 else "fail"),
        ]
        for run in data.backfill_runs
    ]
    table = _table(
        ["started", "target", "window", "chunks", "days", "seconds", "days/hour", "exit"],
        rows,
        "backfill-runs",
    )
    return (_plot(svg, "plot-run-timings") if svg else "") + table


def _spot_checks(data: ReportData) -> str:
    if not data.spot_checks:
        return '<p class="muted">No gamebook lines with minutes in this window.</p>'
    rows = []
    for r in data.spot_checks:
        zones = (
            f"paint {r['paint_makes']}/{r['paint_attempts']}, "
            f"mid {r['mid_range_makes']}/{r['mid_range_attempts']}, "
            f"three {r['three_makes_pbp']}/{r['three_attempts_pbp']}"
        )
        fg = f"{r['fg_makes']}-{r['fg_attempts']}"
        rows.append(
            [
                _td(f"{r['game_date']:%Y-%m-%d}"),
                _td(r["game_id"]),
                _td(f"{r['player_full_name']} ({r['team_abbr']})"),
                _td(r["raw_minutes"]),
                _td(_num(r["minutes_played"], 1), True),
                _td(f"{r['raw_points']} / {r['points']}", True),
                _td(f"{r['raw_fg_makes']}-{r['raw_fg_attempts']} / {fg}"),
                _td(zones),
                _td(r["shot_zone_source"]),
            ]
        )
    return f"<p>{len(rows)} random played lines (seed {data.seed}):</p>" + _table(
        [
            "date",
            "game",
            "player",
            "raw minutes",
            "minutes",
            "points raw / built",
            "FG raw / built",
            "zones made/attempted",
            "zone source",
        ],
        rows,
        "spot-checks",
    )


def render(data: ReportData, generated_at: dt.datetime) -> str:
    """The whole page."""
    sections = [
        _section(
            "completeness",
            "Completeness",
            "Did every final game of the schedule get its rows, and which days are out of band?",
            _overview(data),
        ),
        _section(
            "minutes-null",
            "Minutes NULL share",
            "Is the share of rows without minutes (DNP, inactive, unparseable) inside its "
            "band every month and every day? A day far above it is a parser or load bug.",
            _plot(plots.minutes_null_share(data), "plot-minutes-null"),
        ),
        _section(
            "zones",
            "Shot-zone coverage and sources",
            "Do played rows get shot zones, and from which play-by-play source?",
            _plot(plots.zone_coverage(data), "plot-zones"),
        ),
        _section(
            "distributions",
            "Rows per game and usage rate",
            "Does every game have a plausible roster size, and how many rows carry a usage "
            "rate above the flag (kept, not dropped)?",
            '<div class="pair">'
            + _plot(plots.rows_per_game(data), "plot-rows-per-game")
            + _plot(plots.usage_distribution(data), "plot-usage")
            + "</div>",
        ),
        _section(
            "checks",
            "Checks",
            "What did the latest validation of this window measure, "
            "against which band, and what failed?",
            _checks(data),
        ),
        _section(
            "history",
            "Validation history",
            "How did each check fare over the runs that validated this window?",
            _history(data),
        ),
        _section(
            "runs",
            "Backfill runs",
            "How long did the chunks take, at how many days/hour?",
            _backfill(data),
        ),
        _section(
            "spot-checks",
            "Spot checks against the raw gamebook",
            "Do built lines match their raw gamebook strings (minutes 35:42 -> 35.7)?",
            _spot_checks(data),
        ),
    ]
    title = f"player_game_summary quality report {data.start}..{data.end}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n"
        f"<h1>{_e(title)}</h1>"
        f'<p class="muted">nba_analytics.player_game_summary, target {_e(data.target)} '
        f"({_e(data.location)}), generated {generated_at:%Y-%m-%d %H:%M:%S} UTC. "
        "Status is shown by symbol and word: \u25cf PASS, \u25b2 WARN, \u2716 FAIL.</p>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )
