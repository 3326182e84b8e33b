"""the alert sweep's open work found by partial indexes: deposits in suspense, open payment notices

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Every sweep reads the deposits in suspense and the open notices past their due date: a handful of rows
among the city's millions, which without an index are a full scan of both tables each quarter hour.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _only(condition: str) -> dict:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def upgrade() -> None:
    op.create_index('ix_deposits_in_suspense', 'deposits', ['id'], **_only("status = 'suspense'"))
    op.create_index('ix_payment_notices_open_due', 'payment_notices', ['due_on'], **_only("status = 'open'"))


def downgrade() -> None:
    op.drop_index('ix_payment_notices_open_due', table_name='payment_notices')
    op.drop_index('ix_deposits_in_suspense', table_name='deposits')
