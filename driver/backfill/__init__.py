"""The chunked backfill: cut a window into chunks (chunks), decide what to run (plan), keep
durable state (state), run chunks over workers (scheduler) each as one retried dbt build
(runner, retry), show progress (progress), write the run report (report), end processes a
killed run left (orphans); `backfill` and `status` commands (command, status)."""
