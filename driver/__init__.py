"""Backfill driver for the nba_analytics dbt project.

The driver is generic: it plans date chunks, runs dbt per chunk, records state,
retries and reports. Only `generate` (synthetic raw data) and `load` (raw data
into a warehouse) know the raw tables, and they read them from contract/.
"""
