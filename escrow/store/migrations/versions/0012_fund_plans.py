"""fund demand plans (资金需求计划): versions, items, their approval steps, and releases against them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

`fund_plans` holds each version of a project's plan (filed by the developer, approved along the rule book's
`[fund_plan]` chain); `fund_plan_items` its lines (node, building where supervised so, month, payee role,
amount in fen). The steps of a plan's chain are rows of the one `approval_steps` table, naming the plan in
the new `fund_plan_id` column. `releases` gains `plan` (the release against the approved plan when applied
for), `beyond_plan_reason` (the developer's reason for going beyond it) and `approved_on` (the day
of its last approval step: the month it drew in). Existing rows keep NULL: a release
applied for before a plan existed was never judged against one.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('fund_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('developer_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('rulebook_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['supervised_accounts.id'], ),
    sa.ForeignKeyConstraint(['developer_id'], ['developers.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'version')
    )
    with op.batch_alter_table('fund_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_plans_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_plans_project_id'), ['project_id'], unique=False)
    op.create_table('fund_plan_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('node_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('building_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['supervised_accounts.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['fund_plans.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fund_plan_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_plan_items_plan_id'), ['plan_id'], unique=False)
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fund_plan_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_approval_steps_fund_plan_id_step_no', ['fund_plan_id', 'step_no'])
        batch_op.create_foreign_key(
            'fk_approval_steps_fund_plan_id_fund_plans', 'fund_plans', ['fund_plan_id'], ['id']
        )
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('beyond_plan_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('approved_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_column('approved_on')
        batch_op.drop_column('beyond_plan_reason')
        batch_op.drop_column('plan')
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.drop_constraint('fk_approval_steps_fund_plan_id_fund_plans', type_='foreignkey')
        batch_op.drop_constraint('uq_approval_steps_fund_plan_id_step_no', type_='unique')
        batch_op.drop_column('fund_plan_id')
    with op.batch_alter_table('fund_plan_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_plan_items_plan_id'))
    op.drop_table('fund_plan_items')
    with op.batch_alter_table('fund_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_plans_project_id'))
        batch_op.drop_index(batch_op.f('ix_fund_plans_account_id'))
    op.drop_table('fund_plans')
