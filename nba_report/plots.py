"""The report's plots: matplotlib figures rendered to inline SVG (text as text, no script).

Every plot has a title, axis labels with units and its thresholds drawn; pass / warn / fail
are told apart by marker shape and text labels, not by colour alone (STATUS_STYLE).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nba_report.data import USAGE_BUCKET, ReportData  # noqa: E402
from nba_report.warehouse import Row  # noqa: E402

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: small, searchable, no embedded glyphs
        "svg.hashsalt": "nba_report",  # stable element ids from run to run
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

# status -> (colour, marker, label): shape and label carry the status without colour.
STATUS_STYLE: dict[str, tuple[str, str, str]] = {
    "pass": ("#2e7d32", "o", "PASS"),
    "warn": ("#e65100", "^", "WARN"),
    "fail": ("#b71c1c", "X", "FAIL"),
    "error": ("#b71c1c", "X", "ERROR"),
    "skipped": ("#757575", "s", "SKIP"),
}
LEVEL_STATUS = {0: "pass", 1: "warn", 2: "fail"}
SOURCE_STYLE = {  # source -> (label, colour, hatch)
    "bigdataball": ("BigDataBall", "#1565c0", ""),
    "nbac": ("NBA.com", "#90caf9", "//"),
    "none": ("none (no zones)", "#bdbdbd", "xx"),
}
WIDE = (10.0, 3.6)


def to_svg(fig: Figure) -> str:
    """The figure as an <svg> element for inline use (XML prolog and doctype dropped)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _date_axis(ax: Axes) -> None:
    """Date ticks that stay readable from a week to several seasons."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _monthly(data: ReportData, share: str) -> tuple[list[Any], list[Any]]:
    """Mid-month dates and a monthly share (Month property `share`), months with a value."""
    points = [(m.month + dt.timedelta(days=14), getattr(m, share)) for m in data.months]
    kept = [(x, y) for x, y in points if y is not None]
    return [x for x, _ in kept], [y for _, y in kept]


def _level_points(
    ax: Axes, days: Sequence[Row], value: str, level: str, gid_prefix: str, annotate: bool
) -> None:
    """The days as points, one marker per level; error days labelled with their date."""
    for lvl, status in LEVEL_STATUS.items():
        pts = [d for d in days if d[value] is not None and int(d[level] or 0) == lvl]
        if not pts:
            continue
        colour, marker, label = STATUS_STYLE[status]
        ax.scatter(
            [d["game_date"] for d in pts],
            [float(d[value]) for d in pts],
            s=14 if lvl == 0 else 42,
            marker=marker,
            color=colour,
            alpha=0.45 if lvl == 0 else 0.95,
            zorder=3 if lvl == 0 else 4,
            label=f"day, {label} ({len(pts)})",
            gid=f"{gid_prefix}-{status}",
        )
        if annotate and lvl == 2:
            for d in pts[:8]:
                ax.annotate(
                    f"{d['game_date']:%Y-%m-%d}: {float(d[value]):.0f}% FAIL",
                    (d["game_date"], float(d[value])),
                    textcoords="offset points",
                    xytext=(6, -10),
                    fontsize=8,
                    color=colour,
                )


def _bound(ax: Axes, value: float, colour: str, label: str) -> None:
    """A dashed horizontal line at a check's bound."""
    ax.axhline(value, color=colour, linestyle="--", linewidth=1, label=label)


def _monthly_line(
    ax: Axes, data: ReportData, share: str, label: str, gid: str | None = None
) -> None:
    """The monthly value of a daily share as a black line with square markers."""
    ax.plot(
        *_monthly(data, share),
        color="black",
        marker="s",
        markersize=4,
        linewidth=1.4,
        label=label,
        gid=gid,
    )


def minutes_null_share(data: ReportData) -> str:
    b = data.bands
    fig, ax = plt.subplots(figsize=WIDE)
    ax.axhspan(
        b.minutes_null_pass_min,
        b.minutes_null_pass_max,
        color="#c8e6c9",
        alpha=0.6,
        label=f"pass band {b.minutes_null_pass_min:g}-{b.minutes_null_pass_max:g} %",
    )
    _bound(ax, b.minutes_null_error_max, "#b71c1c", f"error above {b.minutes_null_error_max:g} %")
    _level_points(ax, data.days, "minutes_null_pct", "minutes_null_level", "minutes-null", True)
    _monthly_line(ax, data, "minutes_null_pct", "monthly share", gid="minutes-null-month")
    highest = max([float(d["minutes_null_pct"] or 0.0) for d in data.days] + [0.0])
    ax.set_ylim(0, max(highest, b.minutes_null_error_max) + 6)
    _date_axis(ax)
    ax.set_title("Minutes NULL share: by month (line) and by day (points)")
    ax.set_xlabel("game date")
    ax.set_ylabel("rows with minutes NULL (%)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0)
    return to_svg(fig)


def zone_coverage(data: ReportData) -> str:
    b = data.bands
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.0, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    _bound(ax, b.zone_pass_min, "#2e7d32", f"pass from {b.zone_pass_min:g} %")
    _bound(ax, b.zone_error_min, "#b71c1c", f"error below {b.zone_error_min:g} %")
    _level_points(ax, data.days, "zone_coverage_pct", "zone_coverage_level", "zone", False)
    _monthly_line(ax, data, "zone_coverage_pct", "monthly coverage")
    ax.set_ylim(-3, 103)
    _date_axis(ax)
    ax.set_title("Shot-zone coverage of active rows with minutes > 0")
    ax.set_xlabel("game date")
    ax.set_ylabel("rows with complete zones (%)")
    ax.legend(loc="lower left", fontsize=7, ncol=2, framealpha=0.9)

    x = [m.month for m in data.months]
    bottom = [0] * len(x)
    for key, (label, colour, hatch) in SOURCE_STYLE.items():
        heights = [m.games_zone[key] for m in data.months]
        ax2.bar(
            x,
            heights,
            width=25,
            bottom=bottom,
            color=colour,
            hatch=hatch,
            edgecolor="white",
            label=f"{label} ({sum(heights)} games)",
            align="edge",
        )
        bottom = [a + h for a, h in zip(bottom, heights, strict=True)]
    ax2.set_title("Zone source per game, by month")
    ax2.set_xlabel("month")
    ax2.set_ylabel("games")
    ax2.legend(fontsize=7, loc="upper left")
    _date_axis(ax2)
    fig.tight_layout()
    return to_svg(fig)


def rows_per_game(data: ReportData) -> str:
    b = data.bands
    fig, ax = plt.subplots(figsize=(4.9, 3.4))
    counts = Counter(data.games_rows)
    xs = sorted(counts)
    outside = sum(
        n for v, n in counts.items() if v < b.rows_per_game_min or v > b.rows_per_game_max
    )
    ax.bar(xs, [counts[v] for v in xs], width=0.9, color="#5c6bc0")
    for bound, text in ((b.rows_per_game_min, "min"), (b.rows_per_game_max, "max")):
        ax.axvline(bound, color="#b71c1c", linestyle="--", linewidth=1)
        ax.annotate(
            f"{text} {bound:g}",
            (bound, 0.95),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            color="#b71c1c",
            ha="center",
        )
    verdict = "PASS" if outside == 0 else "FAIL"
    ax.set_title(f"Rows per game ({len(data.games_rows)} games; {outside} outside: {verdict})")
    ax.set_xlabel("rows (players) per game")
    ax.set_ylabel("games")
    lo = min([*xs, b.rows_per_game_min]) - 2
    hi = max([*xs, b.rows_per_game_max]) + 2
    ax.set_xlim(lo, hi)
    return to_svg(fig)


def usage_distribution(data: ReportData) -> str:
    b = data.bands
    fig, ax = plt.subplots(figsize=(4.9, 3.4))
    below = [(x, n) for x, n in data.usage_buckets if x + USAGE_BUCKET <= b.usage_max]
    above = [(x, n) for x, n in data.usage_buckets if x + USAGE_BUCKET > b.usage_max]
    ax.bar(
        [x for x, _ in below],
        [n for _, n in below],
        width=USAGE_BUCKET,
        align="edge",
        color="#5c6bc0",
        label="usage <= max",
    )
    if above:
        ax.bar(
            [x for x, _ in above],
            [n for _, n in above],
            width=USAGE_BUCKET,
            align="edge",
            color="#e65100",
            hatch="//",
            edgecolor="white",
            label=f"> {b.usage_max:g}: {data.usage_above_max} rows, flagged (WARN), kept",
        )
    ax.axvline(b.usage_max, color="#b71c1c", linestyle="--", linewidth=1)
    ax.annotate(
        f"flag > {b.usage_max:g}",
        (b.usage_max, 0.98),
        xycoords=("data", "axes fraction"),
        xytext=(3, 0),
        textcoords="offset points",
        fontsize=7,
        color="#b71c1c",
        ha="left",
        va="top",
    )
    ax.set_yscale("log")
    share = 100.0 * data.usage_above_max / data.usage_rows if data.usage_rows else 0.0
    ax.set_title(f"Usage rate ({data.usage_rows} rows; {share:.2f}% above {b.usage_max:g})")
    ax.set_xlabel(f"usage rate (%, {USAGE_BUCKET}-point bins)")
    ax.set_ylabel("rows (log scale)")
    ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 0.9))
    return to_svg(fig)


def check_history(data: ReportData, limit: int = 24) -> str | None:
    """Status of each check per validation run: the checks that were not always PASS."""
    runs: list[str] = []
    started: dict[str, dt.datetime] = {}
    for r in data.history:
        if r["run_id"] not in started:
            runs.append(r["run_id"])
            started[r["run_id"]] = r["run_started_at"]
    if not runs:
        return None
    flagged = sorted({r["check_name"] for r in data.history if r["status"] != "pass"})[:limit]
    if not flagged:
        return None
    index = {run: i for i, run in enumerate(runs)}
    fig, ax = plt.subplots(figsize=(10.0, 0.9 + 0.32 * len(flagged)))
    for status, (colour, marker, label) in STATUS_STYLE.items():
        pts = [r for r in data.history if r["status"] == status and r["check_name"] in flagged]
        if pts:
            ax.scatter(
                [index[r["run_id"]] for r in pts],
                [flagged.index(r["check_name"]) for r in pts],
                marker=marker,
                color=colour,
                s=48,
                label=label,
                gid=f"history-{status}",
            )
    ax.set_yticks(range(len(flagged)), flagged)
    ax.set_ylim(-0.7, len(flagged) - 0.3)
    ticks = list(range(len(runs)))
    ax.set_xticks(ticks, [f"#{i + 1}\n{started[runs[i]]:%m-%d %H:%M}" for i in ticks], fontsize=7)
    ax.set_xlim(-0.7, len(runs) - 0.3)
    ax.set_title("Check status per validation run (checks that were not always PASS)")
    ax.set_xlabel("validation run (number, start time UTC)")
    ax.set_ylabel("check")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return to_svg(fig)


def run_timings(data: ReportData) -> str | None:
    """Seconds per chunk of each backfill run."""
    runs = data.backfill_runs[-6:]
    bars = [
        (
            f"run {i + 1}: {c.get('start')}..{c.get('end')}",
            float(c.get("seconds") or 0.0),
            str(c.get("status", "")),
        )
        for i, run in enumerate(runs)
        for c in run.chunks
    ][-30:]
    if not bars:
        return None
    fig, ax = plt.subplots(figsize=(10.0, 0.9 + 0.26 * len(bars)))
    for y, (_, seconds, status) in enumerate(bars):
        ok = status == "success"
        ax.barh(y, seconds, color="#5c6bc0" if ok else "#b71c1c", hatch="" if ok else "xx")
        ax.annotate(
            f"{seconds:.1f} s {'OK' if ok else status.upper()}",
            (seconds, y),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=7,
        )
    ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontsize=7)
    ax.invert_yaxis()
    ax.set_title("Backfill chunk timings (latest runs)")
    ax.set_xlabel("seconds per chunk")
    ax.set_ylabel("run and chunk window")
    return to_svg(fig)
