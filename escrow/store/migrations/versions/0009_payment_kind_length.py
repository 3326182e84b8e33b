"""payment kinds of provident fund and combination loans fit their columns

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-07

Notices and deposits take the kinds `provident_fund_loan` (19 characters) and `combination_loan`
(CONTRACT.md §9); `payment_notices.kind` and `deposits.kind` were 16 characters wide. Widening changes no
row.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('payment_notices', 'deposits')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                'kind', existing_type=sa.String(length=16), type_=sa.String(length=24), existing_nullable=False
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                'kind', existing_type=sa.String(length=24), type_=sa.String(length=16), existing_nullable=False
            )
