"""Persistence, and the only package that speaks SQL: tables (`models`), the unit of work and engines (`db`),
repositories per aggregate (`repos/`), read models (`reads/`), the audit chain (`audit`), locks, the driver
fast path (`driver`) and migrations."""
