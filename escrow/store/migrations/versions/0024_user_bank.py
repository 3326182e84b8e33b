"""bank staff: a user of role `bank` is bound to the bank whose accounts it may read (users.bank_id)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

The read-only bank portal (/bank) shows a bank's own supervised accounts, instructions, statements and
freezes to its staff; the user row names the bank as a developer's staff row names its developer.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('bank_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_users_bank_id_banks', 'banks', ['bank_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('fk_users_bank_id_banks', type_='foreignkey')
        batch.drop_column('bank_id')
