"""rule book adoptions: a later version adopted for chosen live projects, decided with four eyes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

`rulebook_adoptions` holds the adoption (the version adopted, why, who applied, its status);
`rulebook_adoption_projects` the chosen projects with the version each was on. The steps of its approval
chain are rows of `approval_steps`, the one table of the one approval workflow: they name the adoption in
the new `adoption_id` column, and since an adoption spans several accounts, `account_id` may now be empty
(it stays set for every release and refund step).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rulebook_adoptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('rulebook_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('applied_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applied_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rulebook_adoption_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('adoption_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('from_rulebook_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['supervised_accounts.id'], ),
    sa.ForeignKeyConstraint(['adoption_id'], ['rulebook_adoptions.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('adoption_id', 'project_id')
    )
    with op.batch_alter_table('rulebook_adoption_projects', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_rulebook_adoption_projects_account_id'), ['account_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_rulebook_adoption_projects_project_id'), ['project_id'], unique=False
        )
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adoption_id', sa.Integer(), nullable=True))
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint('uq_approval_steps_adoption_id_step_no', ['adoption_id', 'step_no'])
        batch_op.create_foreign_key(
            'fk_approval_steps_adoption_id_rulebook_adoptions', 'rulebook_adoptions', ['adoption_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.drop_constraint('fk_approval_steps_adoption_id_rulebook_adoptions', type_='foreignkey')
        batch_op.drop_constraint('uq_approval_steps_adoption_id_step_no', type_='unique')
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('adoption_id')
    with op.batch_alter_table('rulebook_adoption_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rulebook_adoption_projects_project_id'))
        batch_op.drop_index(batch_op.f('ix_rulebook_adoption_projects_account_id'))
    op.drop_table('rulebook_adoption_projects')
    op.drop_table('rulebook_adoptions')
