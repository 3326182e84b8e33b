"""notifications: the in-app inbox and its e-mail outbox; users.email

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

A notification is written in the transaction of the event that causes it (a case reaching a step, an
application decided, an alert raised) as a kind with parameters; its words are chosen when it is read. The
inbox reads the index (user_id, id), its unread count a partial one of the unread rows; the e-mail job reads the partial index of
the rows still to send.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = "mail_due_at IS NOT NULL"
UNREAD = "read_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('subject_type', sa.String(length=40), nullable=False),
        sa.Column('subject_id', sa.BigInteger(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mail_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mail_attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('mail_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notifications_user_newest', 'notifications', ['user_id', 'id'])
    op.create_index(
        'ix_notifications_user_unread',
        'notifications',
        ['user_id', 'id'],
        postgresql_where=sa.text(UNREAD),
        sqlite_where=sa.text(UNREAD),
    )
    op.create_index(
        'ix_notifications_mail_due',
        'notifications',
        ['mail_due_at'],
        postgresql_where=sa.text(DUE),
        sqlite_where=sa.text(DUE),
    )


def downgrade() -> None:
    op.drop_index('ix_notifications_mail_due', table_name='notifications')
    op.drop_index('ix_notifications_user_unread', table_name='notifications')
    op.drop_index('ix_notifications_user_newest', table_name='notifications')
    op.drop_table('notifications')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email')
