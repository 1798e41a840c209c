"""The backfill command with a fake dbt (python_tests/fake_dbt.py, passed with the hidden
--dbt-executable option): inputs, scheduling, retry, resume, interrupt, dry run, unit-test
decisions. Real dbt and DuckDB are in python_tests/integration/test_backfill_e2e.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import FAKE_DBT

from driver.backfill import lease, raw_window
from driver.backfill.state import FAILED, PENDING, RUNNING, SUCCESS, read_state, write_state
from driver.cli import main
from driver.dbt.results import shared_relations
from driver.project import PROJECT_DIR

WINDOW = ["--start-date", "2022-01-01", "--end-date", "2022-01-31"]
FAKE = ["--dbt-executable", f"{sys.executable} {FAKE_DBT}"]


@contextmanager
def _no_lease(*_: object) -> Iterator[None]:
    yield


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Set up the fake dbt's env; returns the dir holding state, runs and the call log."""
    work = tmp_path / "bf"
    database = tmp_path / "db" / "fake.duckdb"  # the dev target's file must exist (checked)
    database.parent.mkdir()
    database.touch()
    monkeypatch.setenv("NBA_DUCKDB_PATH", str(database))
    # BigQuery targets here are never reached (the fake dbt builds): no lease row to take,
    # no raw rows to count (unknown: the backfill runs)
    monkeypatch.setattr(lease, "bigquery_lease", _no_lease)
    monkeypatch.setattr(raw_window, "_bigquery_rows", lambda *_: None)
    monkeypatch.setenv("FAKE_DBT_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_DBT_STATE_DIR", str(tmp_path / "fake_state"))
    for var in (
        "FAKE_DBT_FAIL",
        "FAKE_DBT_TRANSIENT_ONCE",
        "FAKE_DBT_SLEEP",
        "FAKE_DBT_TEST_SLEEP",
        "FAKE_DBT_KILL_ONCE",
        "NBA_DBT_TARGET",
        "FAKE_DBT_UNIT_FAIL",
    ):
        monkeypatch.delenv(var, raising=False)
    return work


def calls(fake: Path) -> list[dict]:
    log = fake.parent / "calls.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [e for e in map(json.loads, lines) if e["outcome"] != "started"]


def backfill(fake: Path, *extra: str, window: list[str] = WINDOW) -> int:
    return main(
        ["backfill", *window, "--state-file", str(fake / "state.json"),
         "--retry-base-seconds", "0.01", "--skip-validation", *FAKE, *extra]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start-date", "2022-02-30", "--end-date", "2022-03-01"], "not a real calendar date"),
        (["--start-date", "2022-03-01", "--end-date", "2022-02-01"], "before"),
        ([*WINDOW, "--workers", "0"], "--workers must be at least 1"),
        ([*WINDOW, "--target", "staging"], "--target must be one of"),
        (["--start-date", "2022-01-01'; drop table x; --", "--end-date", "2022-01-31"], "ISO"),
        ([*WINDOW, "--chunk-days", "0"], "--chunk-days"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    fake: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["backfill", *argv, "--state-file", str(fake / "state.json")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not fake.exists() and calls(fake) == []


def test_dry_run_on_duckdb_writes_nothing(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert backfill(fake, "--dry-run", "--chunk-days", "7") == 0
    out = capsys.readouterr().out
    assert "2022-01-29..2022-01-31" in out and "nothing built" in out
    assert not fake.exists() and calls(fake) == []


def test_dry_run_on_bigquery_estimates_bytes_per_chunk_in_parallel(
    fake: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_bq = types.ModuleType("driver.warehouse.bigquery")
    fake_bq.client_for_target = lambda target: object()  # type: ignore[attr-defined]
    fake_bq.dry_run_bytes = lambda client, sql: 1024 * len(sql)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "driver.warehouse.bigquery", fake_bq)
    monkeypatch.setattr("driver.warehouse.bigquery", fake_bq, raising=False)
    assert backfill(fake, "--dry-run", "--chunk-days", "7", "--target", "bq_local") == 0
    out = capsys.readouterr().out
    assert out.count("would process") == 5 and "total:" in out
    assert [c["command"] for c in calls(fake)] == ["compile"] * 5
    assert not fake.exists()


def test_failed_chunk_recorded_others_complete_then_retry_failed(
    fake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_DBT_FAIL", "2022-01-08")
    assert backfill(fake, "--chunk-days", "7") == 1
    out = capsys.readouterr().out
    assert "--retry-failed" in out and 'Could not convert "x2022-01-08"' in out
    state = read_state(fake / "state.json")
    assert state is not None
    assert [c.status for c in state.chunks] == [SUCCESS, FAILED, SUCCESS, SUCCESS, SUCCESS]
    failed = state.chunks[1]
    assert failed.attempts == 1  # permanent: not retried
    assert "model.fake.mart" in (failed.error or "") and "Conversion Error" in (failed.error or "")
    assert state.chunks[0].rows == 70
    assert list(fake.glob("run_*.json")), "a run report is written"

    monkeypatch.delenv("FAKE_DBT_FAIL")
    before = len(calls(fake))
    assert backfill(fake, "--retry-failed") == 0
    new = [c for c in calls(fake)[before:] if c["command"] == "build"]
    assert [c["start"] for c in new] == ["2022-01-08"]
    assert read_state(fake / "state.json").counts()[SUCCESS] == 5  # type: ignore[union-attr]


def test_transient_failure_is_retried(fake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DBT_TRANSIENT_ONCE", "2022-01-15")
    assert backfill(fake, "--chunk-days", "7") == 0
    state = read_state(fake / "state.json")
    assert state is not None
    assert state.chunks[2].attempts == 2 and state.chunks[2].status == SUCCESS
    assert state.chunks[2].error is None


def test_parallel_on_bigquery_first_chunk_alone_then_overlap_full_refresh_once(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DBT_SLEEP", "0.6")
    assert backfill(fake, "--chunk-days", "4", "--target", "bq_local", "--workers", "3",
                    "--full-refresh", "--unit-tests") == 0  # fmt: skip
    log = calls(fake)
    builds = [c for c in log if c["command"] == "build"]
    assert [c["command"] for c in log] == ["build"] * 8  # no separate parse: each build parses
    first = min(builds, key=lambda c: c["t0"])
    assert first["start"] == "2022-01-01" and "--full-refresh" in first["argv"]
    assert all("--full-refresh" not in c["argv"] for c in builds if c is not first)
    # the unit tests run once, in the first chunk's build, and are excluded from the others
    assert "unit_test" not in first["argv"]
    assert all("unit_test" in c["argv"] for c in builds if c is not first)
    assert not [c for c in log if c["command"] == "test"]
    assert all(c["t0"] >= first["t1"] for c in builds if c is not first)
    peak = max(sum(1 for o in builds if o["t0"] <= c["t0"] < o["t1"]) for c in builds)
    assert 2 <= peak <= 3
    state = read_state(fake / "state.json")
    assert state is not None and state.full_refresh_pending is False


def test_duckdb_runs_one_at_a_time_and_says_so(
    fake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_DBT_SLEEP", "0.2")
    assert backfill(fake, "--chunk-days", "10", "--workers", "4") == 0
    assert "one at a time" in capsys.readouterr().out
    builds = sorted((c for c in calls(fake) if c["command"] == "build"), key=lambda c: c["t0"])
    assert all(b["t0"] >= a["t1"] for a, b in zip(builds, builds[1:], strict=False))


def test_workers_capped_at_20_on_bigquery(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert backfill(fake, "--dry-run", "--workers", "50") == 0  # dev: one at a time
    assert backfill(fake, "--chunk-days", "15", "--target", "prod", "--workers", "50") == 0
    assert "capped at 20" in capsys.readouterr().out


def test_resume_redoes_running_and_failed_and_refuses_other_backfills(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backfill(fake, "--chunk-days", "7") == 0
    path = fake / "state.json"
    state = read_state(path)
    assert state is not None
    state.chunks[0].status, state.chunks[2].status = FAILED, RUNNING  # as a killed run leaves it
    write_state(path, state)
    before = len(calls(fake))
    assert backfill(fake) == 0
    redone = [c["start"] for c in calls(fake)[before:] if c["command"] == "build"]
    assert redone == ["2022-01-01", "2022-01-15"]

    snapshot = path.read_text()
    capsys.readouterr()
    assert backfill(fake, "--select", "+other") == 2
    assert "belongs to another backfill" in capsys.readouterr().err
    assert path.read_text() == snapshot
    assert backfill(fake, "--full-refresh") == 2  # would drop chunks already built
    assert backfill(fake, "--chunk-days", "7", "--no-resume", "--full-refresh") == 0


def test_bigquery_targets_skip_unit_tests_unless_told(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """BigQuery's staging is ephemeral, so dbt unit tests cannot run there: by default the
    builds exclude them (and say why); --unit-tests runs them anyway."""
    assert backfill(fake, "--chunk-days", "15", "--target", "prod", "--no-resume") == 0
    assert "not run on bigquery" in capsys.readouterr().out
    builds = [c for c in calls(fake) if c["command"] == "build"]
    assert len(builds) == 3 and all("unit_test" in c["argv"] for c in builds)
    before = len(calls(fake))
    assert backfill(fake, "--chunk-days", "15", "--target", "prod", "--no-resume",
                    "--unit-tests") == 0  # fmt: skip
    builds = [c for c in calls(fake)[before:] if c["command"] == "build"]
    assert ["unit_test" not in c["argv"] for c in builds] == [True, False, False]


def test_adapter_type_comes_from_the_profile_not_the_target_name(
    fake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A target called `dev` that is BigQuery in the profile runs in parallel and without
    unit tests; one called `warehouse` that is DuckDB runs one chunk at a time."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        "nba_analytics:\n  target: dev\n  outputs:\n"
        "    dev: {type: bigquery, method: oauth, project: p, dataset: d}\n"
        f"    warehouse: {{type: duckdb, path: {os.environ['NBA_DUCKDB_PATH']}}}\n"
    )
    monkeypatch.setenv("DBT_PROFILES_DIR", str(profiles))
    assert backfill(fake, "--chunk-days", "15", "--workers", "3", "--no-resume") == 0
    out = capsys.readouterr().out
    assert "target=dev (bigquery)" in out and "workers: 3" in out
    assert "not run on bigquery" in out
    assert backfill(fake, "--chunk-days", "15", "--workers", "3", "--target", "warehouse",
                    "--state-file", str(fake / "other.json")) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "target=warehouse (duckdb)" in out and "one at a time" in out
    assert backfill(fake, "--target", "bq_local") == 2  # not in this profile
    assert "--target must be one of dev, warehouse" in capsys.readouterr().err


def test_failing_unit_tests_stop_after_the_first_chunk(
    fake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_DBT_UNIT_FAIL", "1")
    assert backfill(fake, "--chunk-days", "7") == 1
    out = capsys.readouterr().out
    assert "unit tests failed in the first chunk's build" in out
    assert "unit_test parses_minutes" in out  # dbt's failure text
    state = read_state(fake / "state.json")
    assert state is not None and [c.status for c in state.chunks] == [FAILED] + [PENDING] * 4
    builds = [c for c in calls(fake) if c["command"] == "build"]
    assert len(builds) == 1 and builds[0]["start"] == "2022-01-01"

    monkeypatch.delenv("FAKE_DBT_UNIT_FAIL")  # fixed: the resume runs them again, then the rest
    before = len(calls(fake))
    assert backfill(fake) == 0
    builds = [c for c in calls(fake)[before:] if c["command"] == "build"]
    assert [("unit_test" in c["argv"]) for c in builds] == [False, True, True, True, True]


def test_extra_vars_reach_every_dbt_call_next_to_the_window(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backfill(fake, "--chunk-days", "15", "--vars", "{allow_shrink: true}") == 0
    log = calls(fake)
    sent = [json.loads(c["argv"][c["argv"].index("--vars") + 1]) for c in log]
    assert len(sent) == 3 and all(v["allow_shrink"] is True for v in sent)
    # the window goes in the environment (NBA_WINDOW_*), never in --vars: see test_dbt_parse
    assert all(c["start"] and "start_date" not in v for c, v in zip(log, sent, strict=True))
    for bad, message in [
        ("{start_date: 2022-01-05}", "may not set start_date"),
        ("[1, 2]", "must be a mapping"),
        ("{a: [}", "is not YAML"),
    ]:
        assert backfill(fake, "--vars", bad, "--no-resume") == 2
        assert message in capsys.readouterr().err


def test_skip_unit_tests_excludes_them_from_every_build(fake: Path) -> None:
    assert backfill(fake, "--chunk-days", "7", "--skip-unit-tests") == 0
    builds = [c for c in calls(fake) if c["command"] == "build"]
    assert len(builds) == 5 and all("unit_test" in c["argv"] for c in builds)


def test_one_chunk_is_one_dbt_call_storing_failures(fake: Path) -> None:
    """The whole window in one chunk: one dbt call, the unit tests in the build, test
    failures stored (no store_failures_as override), and nothing else run."""
    assert backfill(fake) == 0  # January 2022, month chunks: one chunk
    log = calls(fake)
    assert [c["command"] for c in log] == ["build"]
    assert "unit_test" not in log[0]["argv"]
    assert "--vars" not in log[0]["argv"]  # no store_failures_as override, no other vars


def test_status_prints_counts_and_errors(
    fake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_DBT_FAIL", "2022-01-29")
    backfill(fake, "--chunk-days", "7")
    capsys.readouterr()
    assert main(["status", "--state-file", str(fake / "state.json")]) == 1
    out = capsys.readouterr().out
    assert "success: 4" in out and "failed: 1" in out and "Conversion Error" in out


def test_sigint_ends_running_chunk_back_to_pending(fake: Path, tmp_path: Path) -> None:
    env = {**os.environ, "FAKE_DBT_SLEEP": "30"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "driver", "backfill", *WINDOW, "--chunk-days", "7",
         "--state-file", str(fake / "state.json"), "--skip-validation", *FAKE],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    log = fake.parent / "calls.jsonl"
    while time.monotonic() < deadline and '"started"' not in (
        log.read_text() if log.exists() else ""
    ):
        time.sleep(0.1)
    state = read_state(fake / "state.json")
    assert state is not None and state.chunks[0].status == RUNNING and state.chunks[0].pid
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, out
    state = read_state(fake / "state.json")
    assert state is not None
    assert [c.status for c in state.chunks] == [PENDING] * 5
    assert state.chunks[0].attempts == 1 and state.chunks[0].pid is None
    assert [c["outcome"] for c in calls(fake) if c["command"] == "build"] == ["terminated"]


def test_shared_relations_are_read_from_a_chunk_manifest(tmp_path: Path) -> None:
    """Views, tables and tests storing failures in tables are rewritten by every chunk;
    incremental and ephemeral models and tests storing nothing are not."""
    nodes = {
        "model.p.v": {"resource_type": "model", "name": "v", "config": {"materialized": "view"}},
        "model.p.m": {"resource_type": "model", "name": "m",
                      "config": {"materialized": "incremental"}},
        "model.p.e": {"resource_type": "model", "name": "e",
                      "config": {"materialized": "ephemeral"}},
        "test.p.kept": {"resource_type": "test", "name": "kept",
                        "config": {"store_failures": True, "store_failures_as": "table"}},
        "test.p.not_kept": {"resource_type": "test", "name": "not_kept",
                            "config": {"store_failures": True, "store_failures_as": "ephemeral"}},
    }  # fmt: skip
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    assert shared_relations(tmp_path) == ["v (view)", "kept (stored test failures)"]
    assert shared_relations(tmp_path / "missing") == []


def test_unit_tests_rerun_only_after_the_project_changes(
    fake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unit_tests_in_builds(since: int) -> list[bool]:
        builds = [c for c in calls(fake)[since:] if c["command"] == "build"]
        return ["unit_test" not in c["argv"] for c in builds]

    assert backfill(fake, "--no-resume") == 0
    assert unit_tests_in_builds(0) == [True]
    before = len(calls(fake))
    assert backfill(fake, "--no-resume") == 0  # same project, target, selection: not rerun
    assert unit_tests_in_builds(before) == [False]
    assert "passed before" in capsys.readouterr().out

    # Any change to what dbt parses (here: a different fingerprint) runs them again.
    monkeypatch.setattr("driver.dbt.unit_tests.project_fingerprint", lambda *parts: "changed")
    before = len(calls(fake))
    assert backfill(fake, "--no-resume") == 0
    assert unit_tests_in_builds(before) == [True]


def test_project_fingerprint_follows_the_files_dbt_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driver import project

    for name in ("models", "macros", "tests"):
        (tmp_path / name).mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    (tmp_path / "models" / "m.sql").write_text("select 1")
    monkeypatch.setattr(project, "PROJECT_DIR", tmp_path)
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path))
    first = project.project_fingerprint("dev")
    assert project.project_fingerprint("dev") == first
    assert project.project_fingerprint("prod") != first
    (tmp_path / "README.md").write_text("not read by dbt")
    assert project.project_fingerprint("dev") == first
    (tmp_path / "macros" / "new.sql").write_text("{% macro m() %}1{% endmacro %}")
    assert project.project_fingerprint("dev") != first


def test_state_path_a_directory_or_malformed_exits_2_naming_it(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.mkdir()
    assert main(["backfill", *WINDOW, "--state-file", str(fake), *FAKE]) == 2
    assert f"{fake} is a directory" in capsys.readouterr().err
    under_a_file = fake.parent / "calls.jsonl" / "state.json"
    (fake.parent / "calls.jsonl").touch()
    assert backfill(fake, "--no-resume", "--state-file", str(under_a_file)) == 2
    assert "calls.jsonl is not a directory" in capsys.readouterr().err
    bad = fake / "state.json"
    bad.write_text(json.dumps({"chunks": [{"start": "2022-01-01", "status": "done"}]}))
    assert backfill(fake) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "Traceback" not in err
    assert calls(fake) == []


@pytest.mark.parametrize("missing", ["directory", "file"])
def test_missing_duckdb_database_exits_2_before_any_chunk_and_creates_none(
    fake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], missing: str,
) -> None:  # fmt: skip
    database = tmp_path / ("typo" if missing == "directory" else "db") / "other.duckdb"
    monkeypatch.setenv("NBA_DUCKDB_PATH", str(database))
    # BigQuery targets here are never reached (the fake dbt builds): no lease row to take
    monkeypatch.setattr(lease, "bigquery_lease", _no_lease)
    assert backfill(fake) == 2
    err = capsys.readouterr().err
    assert str(database) in err and ("does not exist" in err)
    assert not database.exists() and calls(fake) == [] and not (fake / "state.json").exists()


def test_chunk_timeout_must_be_positive(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert backfill(fake, "--chunk-timeout", "0") == 2
    assert "--chunk-timeout must be > 0" in capsys.readouterr().err


def test_dbt_killed_by_a_signal_is_reported_and_retried(
    fake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_DBT_KILL_ONCE", "2022-01-01")
    assert backfill(fake, "--chunk-days", "15") == 0
    out = capsys.readouterr().out
    assert "killed by signal 9 (SIGKILL)" in out and "transient failure, attempt 1" in out
    assert [c["outcome"] for c in calls(fake)][:2] == ["killed", "success"]
    state = read_state(fake / "state.json")
    assert state is not None and state.chunks[0].attempts == 2


def _start_driver(fake: Path, *extra: str, sleep: str = "30") -> subprocess.Popen[str]:
    env = {**os.environ, "FAKE_DBT_SLEEP": sleep, "FAKE_DBT_TEST_SLEEP": "30"}
    return subprocess.Popen(
        [sys.executable, "-m", "driver", "backfill", *WINDOW, "--chunk-days", "15",
         "--state-file", str(fake / "state.json"), *FAKE, *extra],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for_call(fake: Path, command: str, timeout: float = 60) -> dict:
    log = fake.parent / "calls.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        started = [e for e in map(json.loads, lines)
                   if e["command"] == command and e["outcome"] == "started"]  # fmt: skip
        if started:
            return started[0]
        time.sleep(0.1)
    raise AssertionError(f"no dbt {command} started")


def _alive(pid: int) -> bool:
    """Process `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_chunk_ends_dbt_writes_state_and_report(
    fake: Path, sig: signal.Signals, code: int
) -> None:
    proc = _start_driver(fake, "--skip-validation")
    dbt = _wait_for_call(fake, "build")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err
    summary = [line for line in err.splitlines() if line.startswith(f"{sig.name} during")]
    assert len(summary) == 1 and "3 pending of 3" in summary[0] and "report" in summary[0]
    state = read_state(fake / "state.json")
    assert state is not None and all(c.status == PENDING for c in state.chunks)
    reports = list(fake.glob("run_*.json"))
    assert len(reports) == 1
    assert json.loads(reports[0].read_text())["run"]["exit_code"] == code
    assert not _alive(dbt["pid"])


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_the_validation_ends_dbt_test(
    fake: Path, sig: signal.Signals, code: int
) -> None:
    """The chunks are built; the signal comes while `dbt test` validates the window: it is
    ended (on DuckDB it would hold the file lock), the state keeps the built chunks."""
    proc = _start_driver(fake, sleep="0")
    dbt = _wait_for_call(fake, "test")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err
    assert f"{sig.name} during the validation: stopped; chunks 3 success" in err
    assert len(err.strip().splitlines()) == 1, err  # one line says it all
    state = read_state(fake / "state.json")
    assert state is not None and all(c.status == SUCCESS for c in state.chunks)
    assert len(list(fake.glob("run_*.json"))) == 1
    assert not _alive(dbt["pid"])


def test_a_second_run_on_the_same_database_exits_3_or_waits(fake: Path) -> None:
    """One writer per DuckDB file: while a run holds the lease a second exits 3 naming it;
    with --wait it runs once the first is done."""
    first = _start_driver(fake, "--skip-validation", sleep="2")
    _wait_for_call(fake, "build")
    other = fake.parent / "other"
    second = subprocess.run(
        [sys.executable, "-m", "driver", "backfill", *WINDOW, "--state-file",
         str(other / "state.json"), "--skip-validation", *FAKE],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert second.returncode == 3, second.stdout + second.stderr
    assert f"pid {first.pid}" in second.stderr and "--wait" in second.stderr
    assert not (other / "state.json").exists()
    waited = subprocess.run(
        [sys.executable, "-m", "driver", "backfill", *WINDOW, "--state-file",
         str(other / "state.json"), "--skip-validation", "--wait", "60", *FAKE],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert first.wait(timeout=60) == 0
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert "waiting up to 60 s for run" in waited.stdout


def test_a_model_that_built_but_failed_its_tests_is_named_for_inspection(
    tmp_path: Path,
) -> None:
    """Write-audit-publish: the audited model built, its test failed, the publishing model
    was skipped: the audited relation is what the failure leaves to look at."""
    from driver.backfill.runner import kept_for_inspection
    from driver.dbt.invoke import DbtResult

    (tmp_path / "target").mkdir()
    audit, mart, test = "model.p.m__audit", "model.p.m", "test.p.range_check"
    nodes = {
        audit: {"resource_type": "model", "schema": "audit", "name": "m__audit"},
        mart: {"resource_type": "model", "schema": "marts", "name": "m"},
        test: {"resource_type": "test", "attached_node": audit,
               "depends_on": {"nodes": [audit]}},
    }  # fmt: skip
    (tmp_path / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    results = [
        {"unique_id": audit, "status": "success"},
        {"unique_id": test, "status": "fail"},
        {"unique_id": mart, "status": "skipped"},
    ]
    result = DbtResult(1, "", {"results": results}, run_dir=tmp_path)
    assert kept_for_inspection(result) == ["audit.m__audit"]
    results[1]["status"] = "pass"
    assert kept_for_inspection(result) == []


def test_after_kill_9_the_resume_ends_the_leftover_dbt_of_that_run_only(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The driver dies by SIGKILL; its dbt (own process group) goes on. The resume proves the
    process is that run's (pid, start time, NBA_BACKFILL_RUN_ID) and ends it first."""
    proc = _start_driver(fake, "--skip-validation")
    dbt = _wait_for_call(fake, "build")
    proc.kill()
    proc.communicate(timeout=30)
    assert _alive(dbt["pid"])  # the leftover
    state = read_state(fake / "state.json")
    assert state is not None and state.chunks[0].status == RUNNING
    assert state.chunks[0].pid == dbt["pid"] and state.chunks[0].run_id
    environ = Path(f"/proc/{dbt['pid']}/environ").read_bytes()
    assert f"NBA_BACKFILL_RUN_ID={state.chunks[0].run_id}".encode() in environ
    assert backfill(fake, "--chunk-days", "15") == 0
    assert f"ended leftover dbt process {dbt['pid']}" in capsys.readouterr().out
    deadline = time.monotonic() + 10
    while _alive(dbt["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(dbt["pid"])
