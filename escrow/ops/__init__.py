"""Running the service: request ids, log formats and the metrics (CONTRACT.md §10, "Operations").

`metrics` holds the process's counters and the exposition; `logs` the log formats and the request id;
`requests` the ASGI wrapper that gives every request its id, its access line and its counts."""
