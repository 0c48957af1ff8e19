"""Router: servable versions, alias routes and experiments.

Revision ID: router_0001
Revises: registry_0001
Create Date: 2026-11-22 00:25:26.848215
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'router_0001'
down_revision: str | None = 'registry_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('router_experiments',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('salt', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('variants', sa.JSON(), nullable=False),
    sa.Column('stop_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('primary_metric', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('minimum_detectable_effect', sa.Float(), nullable=False),
    sa.Column('alpha', sa.Float(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'name')
    )
    with op.batch_alter_table('router_experiments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_router_experiments_tenant'), ['tenant'], unique=False)

    op.create_table('router_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('serving_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('alias_revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'model_name', 'alias')
    )
    with op.batch_alter_table('router_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_router_routes_tenant'), ['tenant'], unique=False)

    op.create_table('router_servables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('serving_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('artifact_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('external_model_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'serving_name')
    )
    with op.batch_alter_table('router_servables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_router_servables_tenant'), ['tenant'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('router_servables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_router_servables_tenant'))

    op.drop_table('router_servables')
    with op.batch_alter_table('router_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_router_routes_tenant'))

    op.drop_table('router_routes')
    with op.batch_alter_table('router_experiments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_router_experiments_tenant'))

    op.drop_table('router_experiments')
