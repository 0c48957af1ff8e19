"""Cost: price table versions, jobs, serving names, the ledger with inference rollups, budgets.

Revision ID: cost_0001
Revises: registry_0001
Create Date: 2026-11-22 00:26:53.402976
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

# Exact decimal dollars: NUMERIC on PostgreSQL, decimal text on SQLite (see services/cost/tables.py).
MONEY = sa.Numeric(28, 12).with_variant(sa.String(40), 'sqlite')

revision: str = 'cost_0001'
down_revision: str | None = 'exporter_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cost_budgets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('limit_usd', MONEY, nullable=False),
    sa.Column('alert_at', MONEY, nullable=False),
    sa.Column('spent_usd', MONEY, nullable=False),
    sa.Column('spent_period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('alerted_period', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exceeded_period', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('budget_id')
    )
    with op.batch_alter_table('cost_budgets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_budgets_tenant'), ['tenant'], unique=False)

    op.create_table('cost_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('backend', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('hardware', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trained_tokens', sa.Integer(), nullable=True),
    sa.Column('wall_seconds', sa.Float(), nullable=True),
    sa.Column('finished', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'job_id')
    )
    with op.batch_alter_table('cost_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_jobs_tenant'), ['tenant'], unique=False)

    op.create_table('cost_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reference_id', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('serving_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('quantity', MONEY, nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount_usd', MONEY, nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('price_version', sa.Integer(), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id'),
    sa.UniqueConstraint('tenant', 'kind', 'reference_id')
    )
    with op.batch_alter_table('cost_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_ledger_model'), ['model'], unique=False)
        batch_op.create_index(batch_op.f('ix_cost_ledger_period_start'), ['period_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_cost_ledger_serving_name'), ['serving_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_cost_ledger_tenant'), ['tenant'], unique=False)

    op.create_table('cost_price_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('as_of', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'version')
    )
    with op.batch_alter_table('cost_price_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_price_versions_tenant'), ['tenant'], unique=False)

    op.create_table('cost_serving_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('serving_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('external_model_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'serving_name')
    )
    with op.batch_alter_table('cost_serving_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_serving_models_tenant'), ['tenant'], unique=False)

    op.create_table('cost_hardware_prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('hardware', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('usd_per_hour', MONEY, nullable=False),
    sa.Column('examples_per_second', sa.Float(), nullable=False),
    sa.Column('inference_tokens_per_second', sa.Float(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['cost_price_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'hardware')
    )
    with op.batch_alter_table('cost_hardware_prices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_hardware_prices_version_id'), ['version_id'], unique=False)

    op.create_table('cost_model_prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('training_per_1m', MONEY, nullable=True),
    sa.Column('input_per_1m', MONEY, nullable=True),
    sa.Column('output_per_1m', MONEY, nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['cost_price_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'model')
    )
    with op.batch_alter_table('cost_model_prices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_model_prices_version_id'), ['version_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cost_model_prices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_model_prices_version_id'))

    op.drop_table('cost_model_prices')
    with op.batch_alter_table('cost_hardware_prices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_hardware_prices_version_id'))

    op.drop_table('cost_hardware_prices')
    with op.batch_alter_table('cost_serving_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_serving_models_tenant'))

    op.drop_table('cost_serving_models')
    with op.batch_alter_table('cost_price_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_price_versions_tenant'))

    op.drop_table('cost_price_versions')
    with op.batch_alter_table('cost_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_ledger_tenant'))
        batch_op.drop_index(batch_op.f('ix_cost_ledger_serving_name'))
        batch_op.drop_index(batch_op.f('ix_cost_ledger_period_start'))
        batch_op.drop_index(batch_op.f('ix_cost_ledger_model'))

    op.drop_table('cost_ledger')
    with op.batch_alter_table('cost_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_jobs_tenant'))

    op.drop_table('cost_jobs')
    with op.batch_alter_table('cost_budgets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_budgets_tenant'))

    op.drop_table('cost_budgets')
