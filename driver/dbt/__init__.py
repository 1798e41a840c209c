"""Everything the driver knows about dbt: running it (invoke), reading what a run did
(results: run_results.json, manifest.json, output), and remembering passed unit tests."""
