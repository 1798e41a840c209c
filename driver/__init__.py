"""Backfill driver for the nba_analytics dbt project.

The driver is generic: it plans date chunks, runs dbt per chunk, records state, retries and
reports. It knows no basketball: `load` reads the raw tables from contract/, the only model
name it knows is the default selection, and `generate` is the synth package's command.

Layout: cli (commands), options (shared CLI options), project (dirs, profile targets and
adapter types, fingerprint), files (atomic writes), dates, errors; backfill/ (the chunked
build), dbt/ (running dbt and reading its results), warehouse/ (contract types, loads,
BigQuery), validation/ (the validation report and command).
"""
