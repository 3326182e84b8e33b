"""period sums found by date: an index on journal_entries (booked_on)

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-07

The city's figures for a period (the dashboard, GET /api/v1/stats, the city report) sum the entries booked
between two days across every account, and a city page's cash at a period's end subtracts what was booked
after it. The (account_id, booked_on) index serves neither without an account: PostgreSQL 15 scanned the
whole journal. Measured on PostgreSQL with 260,000 entries over 1,910 accounts: a month's sums 128 ms →
14 ms (bitmap index scan); a year's stay a sequential scan, which the planner rightly prefers there.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_journal_entries_booked', 'journal_entries', ['booked_on'])


def downgrade() -> None:
    op.drop_index('ix_journal_entries_booked', table_name='journal_entries')
