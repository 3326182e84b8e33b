"""Use cases. Each runs inside one unit of work that its caller commits explicitly (the API's idempotent
runner, or the CLI) — so that an idempotency record and its effect share one transaction."""
