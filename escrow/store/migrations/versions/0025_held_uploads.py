"""held uploads: the files of a refused web form, kept for that form and session

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

A form with files that comes back with errors used to drop every chosen file. The checked files are now held
server-side, bound to the form's token and the session that sent them, until the corrected form is submitted
(the use case stores its own copy) or they are a day old.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('held_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('form_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_held_uploads_holder_token', 'held_uploads', ['holder', 'form_token'])
    op.create_index(op.f('ix_held_uploads_created_at'), 'held_uploads', ['created_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_held_uploads_created_at'), table_name='held_uploads')
    op.drop_index('ix_held_uploads_holder_token', table_name='held_uploads')
    op.drop_table('held_uploads')
