"""statement stagings: a statement's lines are staged in short transactions, then published in one

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

Importing a statement of 437,832 lines held SQLite's write lock for minutes while other writes waited. Its
lines are now parsed, matched and written to `statement_staged_lines` in transactions of a few thousand
lines each (each releasing the lock), and one short transaction publishes the statement (escrow.services.
reconcile). A staging older than a day is what an interrupted import left, and is pruned.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('statement_stagings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['supervised_accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_statement_stagings_created_at'), 'statement_stagings', ['created_at'])
    op.create_table('statement_staged_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staging_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('bank_reference', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('counterparty_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('counterparty_account', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('remittance', sa.Text(), nullable=False),
    sa.Column('match', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('deposit_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(
        'ix_statement_staged_lines_staging_line', 'statement_staged_lines', ['staging_id', 'line_no']
    )


def downgrade() -> None:
    op.drop_index('ix_statement_staged_lines_staging_line', table_name='statement_staged_lines')
    op.drop_table('statement_staged_lines')
    op.drop_index(op.f('ix_statement_stagings_created_at'), table_name='statement_stagings')
    op.drop_table('statement_stagings')
