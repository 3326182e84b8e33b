"""webhooks: subscriptions of banks and developers, and their deliveries (the outbox and its log)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

A delivery row is written in the transaction of the event it tells (CONTRACT §10), so none is lost on a
crash; the job `webhook-deliver` sends the pending ones. The secret is stored as issued: it must sign (HMAC)
every delivery, so it cannot be a one-way hash (see escrow.store.models.Webhook).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "status = 'pending'"


def upgrade() -> None:
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bank_id', sa.Integer(), nullable=True),
        sa.Column('developer_id', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('secret_rotated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['bank_id'], ['banks.id']),
        sa.ForeignKeyConstraint(['developer_id'], ['developers.id']),
        sa.PrimaryKeyConstraint('id'),
        # exactly one owner: a bank or a developer
        sa.CheckConstraint('(bank_id IS NULL) <> (developer_id IS NULL)', name='ck_webhooks_one_owner'),
    )
    op.create_index('ix_webhooks_bank', 'webhooks', ['bank_id', 'id'])
    op.create_index('ix_webhooks_developer', 'webhooks', ['developer_id', 'id'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=40), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('webhook_id', 'event_id'),
    )
    op.create_index('ix_webhook_deliveries_webhook', 'webhook_deliveries', ['webhook_id', 'id'])
    op.create_index(
        'ix_webhook_deliveries_pending',
        'webhook_deliveries',
        ['webhook_id', 'id'],
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_pending', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_webhook', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index('ix_webhooks_developer', table_name='webhooks')
    op.drop_index('ix_webhooks_bank', table_name='webhooks')
    op.drop_table('webhooks')
