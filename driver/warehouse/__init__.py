"""The warehouse side: the raw-table contract's types, loading raw data (DuckDB, BigQuery),
BigQuery clients and dry-run cost estimates."""
