"""What the report shows, read from the warehouse and the backfill run reports."""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from driver.errors import UsageError
from driver.project import PROJECT_DIR
from nba_report.warehouse import (
    COMPLETENESS,
    GAMEBOOK_LINES,
    HISTORY,
    MART,
    Row,
    Warehouse,
    date_sql,
)

# Usage rate histogram buckets (percentage points).
USAGE_BUCKET = 2


@dataclass(frozen=True)
class Bands:
    """The validation thresholds the plots draw (vars in dbt_project.yml)."""

    minutes_null_pass_min: float
    minutes_null_pass_max: float
    minutes_null_error_max: float
    zone_pass_min: float
    zone_error_min: float
    rows_per_game_min: float
    rows_per_game_max: float
    usage_max: float

    @classmethod
    def from_project(cls, project_dir: Path = PROJECT_DIR) -> Bands:
        with open(project_dir / "dbt_project.yml") as fh:
            v = (yaml.safe_load(fh) or {}).get("vars") or {}
        return cls(
            minutes_null_pass_min=float(v["validation_minutes_null_pct_pass_min"]),
            minutes_null_pass_max=float(v["validation_minutes_null_pct_pass_max"]),
            minutes_null_error_max=float(v["validation_minutes_null_pct_error_max"]),
            zone_pass_min=float(v["validation_shot_zone_coverage_pct_pass_min"]),
            zone_error_min=float(v["validation_shot_zone_coverage_pct_error_min"]),
            rows_per_game_min=float(v["validation_rows_per_game_min"]),
            rows_per_game_max=float(v["validation_rows_per_game_max"]),
            usage_max=float(v["validation_usage_rate_max"]),
        )


@dataclass
class Month:
    """Sums of the completeness view over one calendar month."""

    month: dt.date
    days: int = 0
    rows: int = 0
    games_built: int = 0
    games_final_missing: int = 0
    minutes_null_rows: int = 0
    zone_population_rows: int = 0
    zone_covered_rows: int = 0
    games_zone: dict[str, int] = field(
        default_factory=lambda: {"bigdataball": 0, "nbac": 0, "none": 0}
    )

    @property
    def minutes_null_pct(self) -> float | None:
        return 100.0 * self.minutes_null_rows / self.rows if self.rows else None

    @property
    def zone_coverage_pct(self) -> float | None:
        if not self.zone_population_rows:
            return None
        return 100.0 * self.zone_covered_rows / self.zone_population_rows


def by_month(days: list[Row]) -> list[Month]:
    """The completeness view's days summed per calendar month, in order."""
    months: dict[dt.date, Month] = {}
    for d in days:
        key = d["game_date"].replace(day=1)
        m = months.setdefault(key, Month(month=key))
        m.days += 1
        m.rows += int(d["row_count"] or 0)
        m.games_built += int(d["games_built"] or 0)
        m.games_final_missing += int(d["games_final_missing"] or 0)
        m.minutes_null_rows += int(d["minutes_null_rows"] or 0)
        m.zone_population_rows += int(d["zone_population_rows"] or 0)
        m.zone_covered_rows += int(d["zone_covered_rows"] or 0)
        m.games_zone["bigdataball"] += int(d["games_zone_bigdataball"] or 0)
        m.games_zone["nbac"] += int(d["games_zone_nbac"] or 0)
        m.games_zone["none"] += int(d["games_zone_none"] or 0)
    return [months[k] for k in sorted(months)]


@dataclass
class BackfillRun:
    """One driver run report (target/backfill/run_*.json)."""

    path: Path
    started_at: str
    seconds: float | None
    days: int | None
    exit_code: int | None
    window: str
    target: str
    chunks: list[dict[str, Any]]

    @property
    def days_per_hour(self) -> float | None:
        if not self.seconds or not self.days:
            return None
        return self.days / self.seconds * 3600.0


def read_backfill_runs(runs_dir: Path, start: dt.date, end: dt.date) -> list[BackfillRun]:
    """The run reports in `runs_dir` whose window overlaps [start, end], oldest first.
    Unreadable or foreign JSON files are skipped; no directory means no runs."""
    found: list[BackfillRun] = []
    if not runs_dir.is_dir():
        return found
    for path in sorted(runs_dir.glob("run_*.json")):
        try:
            payload = json.loads(path.read_text())
            run, state = payload["run"], payload["state"]
            s = dt.date.fromisoformat(str(state["start_date"]))
            e = dt.date.fromisoformat(str(state["end_date"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if s > end or e < start:
            continue
        found.append(
            BackfillRun(
                path=path,
                started_at=str(run.get("started_at", "")),
                seconds=_float(run.get("seconds")),
                days=_int(run.get("days_run")),
                exit_code=_int(run.get("exit_code")),
                window=f"{s}..{e}",
                target=str(state.get("target", "")),
                chunks=[c for c in state.get("chunks") or [] if isinstance(c, dict)],
            )
        )
    return sorted(found, key=lambda r: r.started_at)


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class ReportData:
    """Everything the HTML shows, for one window."""

    start: dt.date
    end: dt.date
    target: str
    location: str
    bands: Bands
    days: list[Row]
    months: list[Month]
    games_rows: list[int]
    usage_buckets: list[tuple[float, int]]
    usage_above_max: int
    usage_rows: int
    history: list[Row]
    history_available: bool
    backfill_runs: list[BackfillRun]
    spot_checks: list[Row]
    seed: int

    def covers_window(self, row: Row) -> bool:
        """Whether a validation_history row's run validated all of this report's window (no
        window: every date)."""
        lo, hi = row.get("window_start"), row.get("window_end")
        return (lo is None or lo <= self.start) and (hi is None or hi >= self.end)

    @property
    def latest_run_id(self) -> str | None:
        """The latest validation run over all of the window; when none covers it, the latest
        that covers part of it (a daily rebuild of one day, say: the page says so)."""
        covering = [r for r in self.history if self.covers_window(r)]
        rows = covering or self.history
        return str(rows[-1]["run_id"]) if rows else None

    @property
    def latest_checks(self) -> list[Row]:
        run_id = self.latest_run_id
        return [r for r in self.history if r["run_id"] == run_id]


def load(
    wh: Warehouse,
    start: dt.date,
    end: dt.date,
    *,
    runs_dir: Path,
    seed: int = 42,
    spot_checks: int = 6,
    bands: Bands | None = None,
) -> ReportData:
    """Read the window's data. UsageError when the monitoring views are missing or the
    window has no rows."""
    for view in (COMPLETENESS, GAMEBOOK_LINES):
        if not wh.has_relation(view):
            raise UsageError(
                f"{view} does not exist in {wh.location}: build the monitoring views once "
                "(dbt run --select models/monitoring)"
            )
    window = f"game_date between {date_sql(start)} and {date_sql(end)}"
    days = wh.rows(f"select * from {COMPLETENESS} where {window} order by game_date")
    if not any(d["row_count"] for d in days):
        raise UsageError(
            f"no rows in {MART} between {start} and {end}: pick a window with games "
            "(or build it first)"
        )
    games_rows = [
        int(r["n"])
        for r in wh.rows(f"select count(*) as n from {MART} where {window} group by game_id")
    ]
    usage = wh.rows(
        f"select floor(usage_rate / {USAGE_BUCKET}) * {USAGE_BUCKET} as bucket, count(*) as n "
        f"from {MART} where {window} and usage_rate is not null group by 1 order by 1"
    )
    usage_buckets = [(float(r["bucket"]), int(r["n"])) for r in usage]
    bands = bands or Bands.from_project()
    usage_above = wh.rows(
        f"select count(*) as n from {MART} where {window} and usage_rate > {bands.usage_max}"
    )[0]["n"]
    history_available = wh.has_relation(HISTORY)
    history: list[Row] = []
    if history_available:
        history = wh.rows(
            f"select * from {HISTORY} "
            f"where (window_start is null or window_start <= {date_sql(end)}) "
            f"and (window_end is null or window_end >= {date_sql(start)}) "
            "order by run_started_at, check_name"
        )
    return ReportData(
        start=start,
        end=end,
        target=wh.target,
        location=wh.location,
        bands=bands,
        days=days,
        months=by_month(days),
        games_rows=games_rows,
        usage_buckets=usage_buckets,
        usage_above_max=int(usage_above),
        usage_rows=sum(n for _, n in usage_buckets),
        history=history,
        history_available=history_available,
        backfill_runs=read_backfill_runs(runs_dir, start, end),
        spot_checks=_spot_checks(wh, window, seed, spot_checks),
        seed=seed,
    )


def _spot_checks(wh: Warehouse, window: str, seed: int, count: int) -> list[Row]:
    """`count` random (seeded) played game lines from the gamebook, beside their raw line."""
    keys = wh.rows(
        f"select game_id, player_lookup from {GAMEBOOK_LINES} where {window} "
        "and raw_minutes is not null and minutes_played > 0 order by game_id, player_lookup"
    )
    if not keys:
        return []
    picked = random.Random(seed).sample(keys, min(count, len(keys)))
    match = " or ".join(
        f"(game_id = '{_quote(k['game_id'])}' and player_lookup = '{_quote(k['player_lookup'])}')"
        for k in picked
    )
    return wh.rows(
        f"select * from {GAMEBOOK_LINES} where {window} and ({match}) "
        "order by game_date, game_id, player_lookup"
    )


def _quote(value: Any) -> str:
    return str(value).replace("'", "''")
