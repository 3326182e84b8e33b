"""the audit trail found by its subject: an index on (subject_type, subject_id)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

The project page's audit trail reads the events of the account (indexed since 0001) OR of the project itself
(`subject_type = 'project' AND subject_id = …`), which had no index: every page read scanned the whole audit
table. With this index both branches of the OR are index look-ups.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_events_subject', 'audit_events', ['subject_type', 'subject_id'])


def downgrade() -> None:
    op.drop_index('ix_audit_events_subject', table_name='audit_events')
