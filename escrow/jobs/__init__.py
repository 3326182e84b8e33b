"""Scheduled jobs and the scheduler that runs them: `escrow scheduler`, or in-process in `escrow serve` on
SQLite.

APScheduler 3 must not share a job store across processes (DESIGN.md §5), so each scheduler keeps its jobs in
memory under fixed ids, and correctness lives in the database: every run first claims a `job_runs` row
(job id, period) — a second scheduler, or the same one started twice, finds the row and does nothing — and on
PostgreSQL only the scheduler holding an advisory lock acts at all. Every job is idempotent besides.
"""
