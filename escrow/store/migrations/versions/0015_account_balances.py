"""maintained per-account balances: each ledger's balance and each entry kind's total, per account

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

An account's balances and the money it has received were sums over its whole journal, so reading an account
(and every release cap) cost more the longer its history. These two tables hold the sums, kept by
`Journal.post` in the transaction that books each entry (escrow.store.repos.journal); `escrow audit verify`
checks them against the journal. The upgrade fills them from the journal as it is, with the same grouped
sums as `Journal.rebuild_balances`.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'account_balances',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('ledger', sa.String(length=24), nullable=False),
        sa.Column('balance_fen', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['supervised_accounts.id']),
        sa.PrimaryKeyConstraint('account_id', 'ledger'),
    )
    op.create_table(
        'account_kind_totals',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('total_fen', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['supervised_accounts.id']),
        sa.PrimaryKeyConstraint('account_id', 'kind'),
    )
    backfill()


def backfill() -> None:
    """The sums of the journal as it stands (each account's sums stay inside 64 bits: escrow.domain.money)."""
    op.execute(
        'INSERT INTO account_balances (account_id, ledger, balance_fen) '
        'SELECT account_id, ledger, SUM(amount_fen) FROM journal_legs GROUP BY account_id, ledger'
    )
    op.execute(
        'INSERT INTO account_kind_totals (account_id, kind, total_fen) '
        'SELECT account_id, kind, SUM(amount_fen) FROM journal_entries GROUP BY account_id, kind'
    )


def downgrade() -> None:
    op.drop_table('account_kind_totals')
    op.drop_table('account_balances')
