"""alerts listed most urgent first from an index: alerts.urgency and a partial index for the open ones

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

The alert lists order by severity, then newest. Sorting on the severity's words meant sorting every open
alert for each page; a stored rank (critical 3, warning 2, info 1) and an index on (urgency, id) over the
alerts not resolved let the first pages be read in index order.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNRESOLVED = "state != 'resolved'"


def upgrade() -> None:
    op.add_column('alerts', sa.Column('urgency', sa.Integer(), nullable=False, server_default='0'))
    op.execute(
        "UPDATE alerts SET urgency = CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 "
        "WHEN 'info' THEN 1 ELSE 0 END"
    )
    op.create_index(
        'ix_alerts_unresolved_order',
        'alerts',
        ['urgency', 'id'],
        postgresql_where=sa.text(UNRESOLVED),
        sqlite_where=sa.text(UNRESOLVED),
    )


def downgrade() -> None:
    op.drop_index('ix_alerts_unresolved_order', table_name='alerts')
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('urgency')
