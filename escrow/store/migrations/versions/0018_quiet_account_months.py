"""the monthly archive's city-level record: the accounts without movement in a month

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-07

The monthly archive renders a statement PDF only for the accounts with a journal entry booked in the month;
every other account gets one line here for the month instead (escrow.jobs.tasks.monthly_archive). Nothing to
backfill: the months archived before kept a PDF for every account.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'quiet_account_months',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('account_id', sa.Integer(), sa.ForeignKey('supervised_accounts.id'), nullable=False),
        sa.Column('account_no', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('account_id', 'kind', 'period'),
    )
    op.create_index('ix_quiet_account_months_period', 'quiet_account_months', ['period'])


def downgrade() -> None:
    op.drop_index('ix_quiet_account_months_period', table_name='quiet_account_months')
    op.drop_table('quiet_account_months')
