"""an account's latest audit events read in index order: (account_id, id) replaces (account_id)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

The project page's trail asks for an account's latest 50 events. With an index on account_id alone,
PostgreSQL preferred to walk the whole table backwards by id and filter (74 ms for an account of the ten-times
city, 207,570 rows read and dropped); an index on (account_id, id) gives the latest events of the account
first, whatever the length of its history, and serves every look-up by account as the old one did.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_events_account_latest', 'audit_events', ['account_id', 'id'])
    op.drop_index('ix_audit_events_account_id', table_name='audit_events')


def downgrade() -> None:
    op.create_index('ix_audit_events_account_id', 'audit_events', ['account_id'])
    op.drop_index('ix_audit_events_account_latest', table_name='audit_events')
