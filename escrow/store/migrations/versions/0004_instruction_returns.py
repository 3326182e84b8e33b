"""payment instructions may return unassigned (suspense) money to its payer

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payment_instructions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch_op.create_unique_constraint('uq_payment_instructions_deposit_id', ['deposit_id'])
        batch_op.create_foreign_key(
            'fk_payment_instructions_deposit_id_deposits', 'deposits', ['deposit_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('payment_instructions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_payment_instructions_deposit_id_deposits', type_='foreignkey')
        batch_op.drop_constraint('uq_payment_instructions_deposit_id', type_='unique')
        batch_op.drop_column('reason')
        batch_op.drop_column('deposit_id')
