"""Registry: models, versions, aliases and the append-only deployment history.

Revision ID: registry_0001
Revises: 0001
Create Date: 2026-11-22 00:18:34.380464
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'registry_0001'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('registry_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'name')
    )
    with op.batch_alter_table('registry_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_models_tenant'), ['tenant'], unique=False)

    op.create_table('registry_deployments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('from_version', sa.Integer(), nullable=True),
    sa.Column('to_version', sa.Integer(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('justification', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registry_models.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('registry_deployments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_deployments_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_deployments_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_deployments_tenant'), ['tenant'], unique=False)

    op.create_table('registry_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('serving_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('artifact_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('artifact_uri', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('artifact_bytes', sa.Integer(), nullable=True),
    sa.Column('external_model_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('dataset_version', sa.Integer(), nullable=True),
    sa.Column('training_config', sa.JSON(), nullable=False),
    sa.Column('training_metrics', sa.JSON(), nullable=False),
    sa.Column('quality_metrics', sa.JSON(), nullable=False),
    sa.Column('performance_metrics', sa.JSON(), nullable=False),
    sa.Column('cost', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registry_models.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('model_id', 'version'),
    sa.UniqueConstraint('tenant', 'job_id')
    )
    with op.batch_alter_table('registry_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_versions_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_versions_tenant'), ['tenant'], unique=False)

    op.create_table('registry_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registry_models.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['registry_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('model_id', 'name')
    )
    with op.batch_alter_table('registry_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_aliases_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_aliases_tenant'), ['tenant'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('registry_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_aliases_tenant'))
        batch_op.drop_index(batch_op.f('ix_registry_aliases_model_id'))

    op.drop_table('registry_aliases')
    with op.batch_alter_table('registry_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_versions_tenant'))
        batch_op.drop_index(batch_op.f('ix_registry_versions_model_id'))

    op.drop_table('registry_versions')
    with op.batch_alter_table('registry_deployments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_deployments_tenant'))
        batch_op.drop_index(batch_op.f('ix_registry_deployments_model_id'))
        batch_op.drop_index(batch_op.f('ix_registry_deployments_created_at'))

    op.drop_table('registry_deployments')
    with op.batch_alter_table('registry_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_models_tenant'))

    op.drop_table('registry_models')
