"""the tri-party agreement and the bank's confirmation; key supervised amount changes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

`supervised_accounts` gains the agreement number (三方监管协议, named at opening or by the bank) and the bank's
confirmation (the day the bank says it opened the account, and the day it confirmed). A change of the key
supervised amount is a row of `supervised_amount_changes`; the steps of its approval chain are rows of
`approval_steps` (the one approval workflow), naming it in the new `supervised_amount_change_id` column.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('supervised_accounts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('agreement_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column('bank_opened_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_on', sa.Date(), nullable=True))
    op.create_table('supervised_amount_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('from_fen', sa.BigInteger(), nullable=False),
    sa.Column('to_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('applied_by', sa.Integer(), nullable=False),
    sa.Column('cap', sa.JSON(), nullable=False),
    sa.Column('rulebook_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['supervised_accounts.id'], ),
    sa.ForeignKeyConstraint(['applied_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('supervised_amount_changes', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_supervised_amount_changes_account_id'), ['account_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_supervised_amount_changes_project_id'), ['project_id'], unique=False
        )
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervised_amount_change_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            'uq_approval_steps_supervised_amount_change_id_step_no', ['supervised_amount_change_id', 'step_no']
        )
        batch_op.create_foreign_key(
            'fk_approval_steps_supervised_amount_change_id',
            'supervised_amount_changes',
            ['supervised_amount_change_id'],
            ['id'],
        )


def downgrade() -> None:
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.drop_constraint('fk_approval_steps_supervised_amount_change_id', type_='foreignkey')
        batch_op.drop_constraint('uq_approval_steps_supervised_amount_change_id_step_no', type_='unique')
        batch_op.drop_column('supervised_amount_change_id')
    with op.batch_alter_table('supervised_amount_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervised_amount_changes_project_id'))
        batch_op.drop_index(batch_op.f('ix_supervised_amount_changes_account_id'))
    op.drop_table('supervised_amount_changes')
    with op.batch_alter_table('supervised_accounts', schema=None) as batch_op:
        batch_op.drop_column('confirmed_on')
        batch_op.drop_column('bank_opened_on')
        batch_op.drop_column('agreement_no')
