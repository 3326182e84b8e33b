"""node confirmations carry the bureau's day of confirmation (node_confirmations.confirmed_on)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

A month's statement says each node as it stood at the month's end: reached and confirmed by then. The day
of confirmation is the bureau's business day (the services' today), not the moment the row was written; the
rows written before are given the Beijing day of their creation.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('node_confirmations') as batch:
        batch.add_column(sa.Column('confirmed_on', sa.Date(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "UPDATE node_confirmations SET confirmed_on = (created_at AT TIME ZONE 'Asia/Shanghai')::date"
        )
    else:
        op.execute("UPDATE node_confirmations SET confirmed_on = date(created_at, '+8 hours')")


def downgrade() -> None:
    with op.batch_alter_table('node_confirmations') as batch:
        batch.drop_column('confirmed_on')
