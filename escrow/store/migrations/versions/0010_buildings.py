"""buildings (楼栋): a permit's buildings, nodes confirmed per building, a contract's building

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

`buildings` holds each building of a project with its pre-sale area (hundredths of m², as projects do) and
the permit that added it (a later permit area; null for the buildings at opening). Node confirmations and
contracts may name their building (`building_id`, null: the whole project, as before). Existing rows keep
null: a project opened without buildings is one building.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite reflects 0001's UNIQUE (project_id, node_code) without a name; batch mode names it by this rule.
NAMES = {'uq': 'uq_%(table_name)s_%(column_0_N_name)s'}
OLD_UNIQUE = 'uq_node_confirmations_project_id_node_code'


def upgrade() -> None:
    op.create_table(
        'buildings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('presale_area_x100', sa.BigInteger(), nullable=False),
        sa.Column('permit_no', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'code', name='uq_buildings_project_code'),
    )
    op.create_index('ix_buildings_project_id', 'buildings', ['project_id'])
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('building_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_contracts_building_id', 'buildings', ['building_id'], ['id'])
    # A node is confirmed once per project (no building) or once per building: the unnamed UNIQUE
    # (project_id, node_code) of 0001 gives way to two partial unique indexes.
    postgres = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('node_confirmations', schema=None, naming_convention=NAMES) as batch_op:
        batch_op.add_column(sa.Column('building_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_node_confirmations_building_id', 'buildings', ['building_id'], ['id'])
        batch_op.drop_constraint(
            'node_confirmations_project_id_node_code_key' if postgres else OLD_UNIQUE, type_='unique'
        )
    op.create_index(
        'uq_node_confirmations_project_node', 'node_confirmations', ['project_id', 'node_code'], unique=True,
        sqlite_where=sa.text('building_id IS NULL'), postgresql_where=sa.text('building_id IS NULL'),
    )
    op.create_index(
        'uq_node_confirmations_building_node', 'node_confirmations', ['building_id', 'node_code'], unique=True,
        sqlite_where=sa.text('building_id IS NOT NULL'), postgresql_where=sa.text('building_id IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('uq_node_confirmations_building_node', table_name='node_confirmations')
    op.drop_index('uq_node_confirmations_project_node', table_name='node_confirmations')
    op.execute('DELETE FROM node_confirmations WHERE building_id IS NOT NULL')
    with op.batch_alter_table('node_confirmations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_node_confirmations_building_id', type_='foreignkey')
        batch_op.drop_column('building_id')
        batch_op.create_unique_constraint('node_confirmations_project_id_node_code_key', ['project_id', 'node_code'])
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contracts_building_id', type_='foreignkey')
        batch_op.drop_column('building_id')
    op.drop_index('ix_buildings_project_id', table_name='buildings')
    op.drop_table('buildings')
