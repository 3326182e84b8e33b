"""the deposits a statement showed, found by deposit: an index on statement_lines (deposit_id)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

A statement counts the account's deposits that no statement line has shown ("books only") with one
anti-join in the database rather than by holding the id of every deposit ever shown in memory; the join
looks lines up by deposit.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_statement_lines_deposit_id', 'statement_lines', ['deposit_id'])


def downgrade() -> None:
    op.drop_index('ix_statement_lines_deposit_id', table_name='statement_lines')
