"""the audit trail chained per account, anchored city-wide by a Merkle root

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07

- audit_events.chain: the chain an event extends — the account's id, 0 (the city chain) for an event without
  an account. The events written before this revision keep the single city-wide chain they were written in:
  they get chain -1 (the legacy chain), verified exactly as before; each new chain starts at GENESIS.
- audit_heads: the last event of each chain (its row is the chain's lock). The legacy chain's head is
  backfilled here, so that the first anchor commits to it.
- audit_anchors, audit_anchor_leaves: a Merkle root over every chain's head (escrow.store.audit).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.BigInteger(), server_default=sa.text('-1'), nullable=False))
    op.create_table(
        'audit_heads',
        sa.Column('chain', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('head_id', sa.BigInteger(), nullable=False),
        sa.Column('head_hash', sa.String(length=64), nullable=False),
        sa.Column('length', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('chain'),
    )
    op.create_table(
        'audit_anchors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('anchored_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('root', sa.String(length=64), nullable=False),
        sa.Column('chains', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('root'),
    )
    op.create_table(
        'audit_anchor_leaves',
        sa.Column('anchor_id', sa.Integer(), nullable=False),
        sa.Column('chain', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('head_id', sa.BigInteger(), nullable=False),
        sa.Column('head_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['anchor_id'], ['audit_anchors.id']),
        sa.PrimaryKeyConstraint('anchor_id', 'chain'),
    )
    # the legacy chain's head: its last event, and how many events it has
    op.execute(
        "INSERT INTO audit_heads (chain, head_id, head_hash, length) "
        "SELECT -1, e.id, e.hash, (SELECT count(*) FROM audit_events) FROM audit_events e "
        "WHERE e.id = (SELECT max(id) FROM audit_events)"
    )


def downgrade() -> None:
    op.drop_table('audit_anchor_leaves')
    op.drop_table('audit_anchors')
    op.drop_table('audit_heads')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('chain')
