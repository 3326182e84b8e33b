"""web sessions name their user

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sessions are disposable: drop any left from before so that the new column can be NOT NULL.
    op.execute("DELETE FROM web_sessions")
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=False))
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key('fk_web_sessions_user_id_users', 'users', ['user_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_web_sessions_user_id_users', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
        batch_op.drop_column('user_id')
