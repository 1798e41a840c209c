# Two commands set everything up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DBT := $(VENV)/bin/dbt
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

START ?= 2021-10-01
END ?= 2024-05-01
SEED ?= 42
RAW_DIR ?= data/raw/$(START)_$(END)_seed$(SEED)
TARGET ?= dev

.PHONY: help venv bytecode bqemu demo data load backfill status validate test test-fast lint lint-python lint-sql-duckdb lint-sql-bigquery test-python test-bigquery bench clean profiles report docs
BACKFILL_ARGS ?=

help:
	@echo "make demo            venv + synthetic data + DuckDB backfill $(START)..$(END) + validation"
	@echo "make test            lint (ruff, mypy, sqlfluff duckdb + bigquery) and every test"
	@echo "make backfill START=YYYY-MM-DD END=YYYY-MM-DD [TARGET=dev|bq_local|prod] [BACKFILL_ARGS='--chunk-days 7 --workers 8']"
	@echo "make status          the state of the last backfill"
	@echo "make test-fast       python_tests/unit: the tests that need no dbt build"
	@echo "make test-bigquery   the BigQuery path on the local emulator, compared with DuckDB"
	@echo "make report START=... END=...  the HTML quality report (docs/quality_report.md)"
	@echo "make docs            dbt docs generate (offline)"
	@echo "make bench           set-based vs microbatch vs per-day vs engine floor, scale curve, chunks, late data (docs/benchmark.md)"

# uv (pinned in constraints.txt) installs the packages: about 15 s and 30 CPU-s on a fresh
# clone where pip took 45 s and 46 CPU-s. --compile-bytecode as pip does: where
# PYTHONDONTWRITEBYTECODE is set, a package left uncompiled is compiled again by every process.
# --system-certs: the machine's certificate store, which pip uses too (uv's own roots do not
# include the CA of a TLS-inspecting proxy; uv then fails with "invalid peer certificate").
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt uv
	$(VENV)/bin/uv pip install -q --system-certs --python $(PY) --compile-bytecode -c constraints.txt \
		-e ".[dev]"
	touch $@

venv: $(VENV)/.installed

# The project's own modules compiled to bytecode (the install compiles the dependencies, not
# an editable install). Without it, where PYTHONDONTWRITEBYTECODE is set (as on our CI machines)
# every driver and dbt process compiles the driver again: the suite starts hundreds of them.
# Quick when nothing changed; a stale .pyc is never used (Python checks the source's mtime).
bytecode: venv
	@$(PY) -m compileall -q driver synth nba_report scripts

profiles: venv
	@$(PY) -c "from driver.project import profiles_dir; print(profiles_dir())" >/dev/null

$(RAW_DIR)/.done: | venv
	$(PY) -m driver generate --start-date $(START) --end-date $(END) --seed $(SEED) --out $(RAW_DIR)
	touch $@

data: $(RAW_DIR)/.done

# LOAD_MODE: merge (default) adds what is not loaded yet; the demo replaces the dates it
# generated, so a regenerated data set (another seed, a newer generator) never mixes with the
# rows an older one left in warehouse/nba.duckdb.
LOAD_MODE ?= merge
load: data
	$(PY) -m driver load --from $(RAW_DIR) --target $(TARGET) --mode $(LOAD_MODE)

backfill: venv
	$(PY) -m driver backfill --start-date $(START) --end-date $(END) --target $(TARGET) $(BACKFILL_ARGS)

status: venv
	$(PY) -m driver status

validate: venv
	$(PY) -m driver validate --start-date $(START) --end-date $(END) --target $(TARGET)

demo: venv data
	$(PY) -m driver load --from $(RAW_DIR) --target dev --mode replace-dates
	$(PY) -m driver backfill --start-date $(START) --end-date $(END) --target dev --no-resume --full-refresh

# The lint checks are single-process and independent: they run side by side (LINT_JOBS, 3 fill
# two cores: ~45 s instead of ~90 s one after another); the output of each stays in one piece.
LINT_JOBS ?= 3
lint: venv profiles
	@$(MAKE) --no-print-directory -j$(LINT_JOBS) --output-sync=target \
		lint-sql-duckdb lint-sql-bigquery lint-python

lint-python: venv
	$(VENV)/bin/ruff check driver synth nba_report python_tests scripts
	$(VENV)/bin/ruff format --check driver synth nba_report python_tests scripts
	$(VENV)/bin/mypy

lint-sql-duckdb: venv profiles
	@# dbt templater on a private DuckDB file and target/log dirs: never the shared warehouse
	lint_dir=$$(mktemp -d) && rc=0 && NBA_DUCKDB_PATH=$$lint_dir/lint.duckdb \
		DBT_TARGET_PATH=$$lint_dir/target DBT_LOG_PATH=$$lint_dir/logs \
		$(VENV)/bin/sqlfluff lint models macros tests --templater dbt --dialect duckdb || rc=$$?; \
		rm -rf $$lint_dir; exit $$rc

# sqlfluff's CLI through scripts/sqlfluff_lint.py: the same lint, with each of our macro files
# compiled by Jinja once instead of twice per linted file (26 -> 14 CPU-s; the script says why).
lint-sql-bigquery: venv
	$(PY) scripts/sqlfluff_lint.py lint models tests --templater jinja --dialect bigquery \
		--config .sqlfluff-bigquery

# python_tests/unit: no dbt build; integration: real dbt + DuckDB (marked slow); bigquery: the
# emulator (marked bigquery). Markers are set by directory in python_tests/conftest.py.
# Two pytest workers (one per core), one test file each: a dbt call is mostly one busy core.
# Files are handed out in the order python_tests/conftest.py sorts them (those that mostly wait
# first, then the longest, so both workers finish together), not xdist's default (the files with the most tests first).
# (A third worker was no faster: 700 s against 696 s for the whole `make test`, and
# test-bigquery's groups, sharing the cores with it, took longer.)
# --durations=25: the slowest set-ups, tests and teardowns are listed at the end.
PYTEST_WORKERS ?= 2
test-python: venv bytecode
	$(PY) -m pytest -q python_tests -m "not bigquery" -n $(PYTEST_WORKERS) --dist loadfile \
		--no-loadscope-reorder --durations=25

test-fast: venv
	$(PY) -m pytest -q python_tests/unit -m "not slow and not bigquery"

test-bigquery: venv bytecode
	bash scripts/test_bigquery.sh

# The three lint checks, test-python and test-bigquery side by side (TEST_JOBS): none of them
# keeps both cores busy all the time (a dbt call is mostly one busy process; test-bigquery's two
# groups are mostly their emulator each), and the longest, test-bigquery, does not wait for the
# others. Each one's output is printed in one piece when it ends; any failure fails `make test`.
# The two virtual environments are installed side by side first (each pip mostly keeps one
# core busy: about 45 s and 30 s one after the other on a fresh clone).
TEST_JOBS ?= 5
test:
	@$(MAKE) --no-print-directory -j2 --output-sync=target venv bqemu
	@$(MAKE) --no-print-directory bytecode profiles
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target \
		lint-sql-duckdb lint-sql-bigquery lint-python test-python test-bigquery

# The BigQuery emulator's own venv (.venv-bqemu/; test-bigquery installs it too when missing)
bqemu:
	bash scripts/bqemulator.sh install

bench: venv bytecode
	$(PY) -m scripts.bench

clean:
	rm -rf target logs .dbt-profiles warehouse

REPORT_OUT ?= target/quality_report.html

# The quality report (docs/quality_report.md): the monitoring views are views, built once,
# then one self-contained HTML file for START..END.
report: venv profiles
	$(DBT) run --select path:models/monitoring --target $(TARGET) -q
	$(PY) -m nba_report --start-date $(START) --end-date $(END) --target $(TARGET) --out $(REPORT_OUT)
	@echo "open $(REPORT_OUT) in a browser (it fetches nothing)"

# dbt docs, offline on DuckDB: catalog and manifest in target/ (dbt docs serve to browse them)
docs: venv profiles
	$(DBT) docs generate --target $(TARGET)
