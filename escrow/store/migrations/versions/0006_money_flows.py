"""real money flows: non-key releases, freeze kinds, court reports, guarantees in force

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

- releases.kind: "node" (every release before) or "non_key" (非重点监管资金, no node: node_code is NULL);
- freezes.kind: "amount" (every freeze before) or "full" (the whole balance);
- payment_instructions.court_report: paid while a freeze was in force, so the bank reports it to the court
  (法〔2022〕12号 art. 2);
- guarantees: the status of one in force is "active" (CONTRACT §8; none was ever registered as "accepted"
  through the system, the rows are renamed all the same) and a release time.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='node'))
        batch_op.alter_column('node_code', existing_type=sa.String(length=40), nullable=True)
    with op.batch_alter_table('freezes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='amount'))
    with op.batch_alter_table('payment_instructions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('court_report', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE guarantees SET status = 'active' WHERE status = 'accepted'")


def downgrade() -> None:
    op.execute("UPDATE guarantees SET status = 'accepted' WHERE status = 'active'")
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.drop_column('released_at')
    with op.batch_alter_table('payment_instructions', schema=None) as batch_op:
        batch_op.drop_column('court_report')
    with op.batch_alter_table('freezes', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.alter_column('node_code', existing_type=sa.String(length=40), nullable=False)
        batch_op.drop_column('kind')
