"""Registry: versions that running experiments serve (they cannot be archived).

Revision ID: registry_0002
Revises: trainer_0001
Create Date: 2026-11-22 01:26:59.165616
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'registry_0002'
down_revision: str | None = 'trainer_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('registry_experiment_arms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('experiment_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('serving_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('running', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'experiment_id', 'serving_name')
    )
    with op.batch_alter_table('registry_experiment_arms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_experiment_arms_serving_name'), ['serving_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_experiment_arms_tenant'), ['tenant'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('registry_experiment_arms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_experiment_arms_tenant'))
        batch_op.drop_index(batch_op.f('ix_registry_experiment_arms_serving_name'))

    op.drop_table('registry_experiment_arms')
