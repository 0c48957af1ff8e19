"""Retrainer: retraining policies, their runs, and what each model's aliases serve.

Revision ID: retrainer_0001
Revises: trainer_0003
Create Date: 2026-11-22 05:46:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'retrainer_0001'
down_revision: str | None = 'trainer_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('retrainer_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('gold_stars_baseline', sa.Integer(), nullable=True),
    sa.Column('gold_stars_counted', sa.Integer(), nullable=True),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('schedule_anchor_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('waiting_for', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('active_run_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('last_run_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'model_name')
    )
    with op.batch_alter_table('retrainer_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retrainer_policies_tenant'), ['tenant'], unique=False)

    op.create_table('retrainer_runs',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('gold_stars', sa.Integer(), nullable=True),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('serving_alias', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('serving_version', sa.Integer(), nullable=True),
    sa.Column('serving_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('export_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('dataset_version', sa.Integer(), nullable=True),
    sa.Column('train_rows', sa.Integer(), nullable=True),
    sa.Column('test_rows', sa.Integer(), nullable=True),
    sa.Column('test_split_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('training_metrics', sa.JSON(), nullable=False),
    sa.Column('candidate_version', sa.Integer(), nullable=True),
    sa.Column('candidate_serving_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('evaluation_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('evaluation_requested', sa.Boolean(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('candidate_score', sa.Float(), nullable=True),
    sa.Column('serving_score', sa.Float(), nullable=True),
    sa.Column('experiment_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('experiment_running', sa.Boolean(), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stage_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('retrainer_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retrainer_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_retrainer_runs_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retrainer_runs_experiment_id'), ['experiment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retrainer_runs_export_id'), ['export_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retrainer_runs_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retrainer_runs_model_name'), ['model_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_retrainer_runs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_retrainer_runs_tenant'), ['tenant'], unique=False)

    op.create_table('retrainer_served_versions',
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('serving_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('alias_revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'model_name', 'alias')
    )


def downgrade() -> None:
    op.drop_table('retrainer_served_versions')
    with op.batch_alter_table('retrainer_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retrainer_runs_tenant'))
        batch_op.drop_index(batch_op.f('ix_retrainer_runs_status'))
        batch_op.drop_index(batch_op.f('ix_retrainer_runs_model_name'))
        batch_op.drop_index(batch_op.f('ix_retrainer_runs_job_id'))
        batch_op.drop_index(batch_op.f('ix_retrainer_runs_export_id'))
        batch_op.drop_index(batch_op.f('ix_retrainer_runs_experiment_id'))
        batch_op.drop_index(batch_op.f('ix_retrainer_runs_evaluation_id'))
        batch_op.drop_index(batch_op.f('ix_retrainer_runs_created_at'))

    op.drop_table('retrainer_runs')
    with op.batch_alter_table('retrainer_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retrainer_policies_tenant'))

    op.drop_table('retrainer_policies')
