"""closure (解除监管) and change of supervising bank

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

- supervised_accounts: a project may have more than one account over its life (a change of supervising
  bank opens a new one), so `project_id` is no longer unique (an index instead); `closed_on` records the day
  supervision ended at that account and `replaced_by_id` the account that took over its books. The project's
  current account is the one not replaced (escrow.store.repos.projects `current_account`).
- payment_instructions: the payee of a `closure` (whom the bureau named) or of a `transfer` (the new
  account), the new bank of a transfer, and the account its execution opened.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's unique constraint on project_id has no name: reflected under this convention it gets one.
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _project_unique_name() -> str:
    """The name the unique constraint on project_id has: PostgreSQL's own (or the one a downgrade gave it);
    on SQLite none, so the convention's."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints('supervised_accounts'):
        if constraint['column_names'] == ['project_id'] and constraint.get('name'):
            return constraint['name']
    return 'uq_supervised_accounts_project_id'


def upgrade() -> None:
    with op.batch_alter_table('supervised_accounts', schema=None, naming_convention=CONVENTION) as batch_op:
        batch_op.drop_constraint(_project_unique_name(), type_='unique')
        batch_op.create_index('ix_supervised_accounts_project_id', ['project_id'], unique=False)
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_supervised_accounts_replaced_by_id_supervised_accounts',
            'supervised_accounts',
            ['replaced_by_id'],
            ['id'],
        )
    # at most one open account per project: a change of bank closes the old account before it opens the new
    op.create_index(
        'uq_supervised_accounts_open_project',
        'supervised_accounts',
        ['project_id'],
        unique=True,
        sqlite_where=sa.text('closed_on IS NULL'),
        postgresql_where=sa.text('closed_on IS NULL'),
    )
    with op.batch_alter_table('payment_instructions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payee_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('payee_account_no', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('payee_bank_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('new_bank_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('new_account_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_payment_instructions_new_bank_id_banks', 'banks', ['new_bank_id'], ['id'])
        batch_op.create_foreign_key(
            'fk_payment_instructions_new_account_id_supervised_accounts',
            'supervised_accounts',
            ['new_account_id'],
            ['id'],
        )


def downgrade() -> None:
    with op.batch_alter_table('payment_instructions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_payment_instructions_new_account_id_supervised_accounts', type_='foreignkey')
        batch_op.drop_constraint('fk_payment_instructions_new_bank_id_banks', type_='foreignkey')
        for column in ('new_account_id', 'new_bank_id', 'payee_bank_name', 'payee_account_no', 'payee_name'):
            batch_op.drop_column(column)
    op.drop_index('uq_supervised_accounts_open_project', table_name='supervised_accounts')
    with op.batch_alter_table('supervised_accounts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_supervised_accounts_replaced_by_id_supervised_accounts', type_='foreignkey')
        batch_op.drop_column('replaced_by_id')
        batch_op.drop_column('closed_on')
        batch_op.drop_index('ix_supervised_accounts_project_id')
        batch_op.create_unique_constraint('uq_supervised_accounts_project_id', ['project_id'])
