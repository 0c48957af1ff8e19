"""Registry: the cost-ledger entries charged to each version.

Revision ID: registry_0003
Revises: registry_0002
Create Date: 2026-11-22 01:47:23.461616
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'registry_0003'
down_revision: str | None = 'registry_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('registry_cost_entries',
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('entry_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount_usd', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['registry_versions.id'], ),
    sa.PrimaryKeyConstraint('tenant', 'entry_id')
    )
    with op.batch_alter_table('registry_cost_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_cost_entries_version_id'), ['version_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('registry_cost_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_cost_entries_version_id'))

    op.drop_table('registry_cost_entries')
