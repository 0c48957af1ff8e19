"""Trainer: fine-tuning jobs with their worker leases, each job's event history, and the
dataset versions the exporter announced.

Revision ID: trainer_0001
Revises: 0001
Create Date: 2026-11-22 00:23:52.894735
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'trainer_0001'
down_revision: str | None = 'evaluator_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trainer_datasets',
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('artifact_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('train_rows', sa.Integer(), nullable=False),
    sa.Column('validation_rows', sa.Integer(), nullable=False),
    sa.Column('token_count', sa.Integer(), nullable=True),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'dataset', 'version')
    )
    op.create_table('trainer_job_events',
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('message_id'),
    sa.UniqueConstraint('job_id', 'sequence')
    )
    with op.batch_alter_table('trainer_job_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainer_job_events_job_id'), ['job_id'], unique=False)

    op.create_table('trainer_jobs',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('base_model', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('training_file', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('validation_file', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('dataset_version', sa.Integer(), nullable=True),
    sa.Column('backend', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('hyperparameters', sa.JSON(), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('suffix', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('export_merged', sa.Boolean(), nullable=False),
    sa.Column('merged_model_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('estimated_finish_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('train_rows', sa.Integer(), nullable=False),
    sa.Column('validation_rows', sa.Integer(), nullable=False),
    sa.Column('estimated_tokens', sa.Integer(), nullable=False),
    sa.Column('trained_tokens', sa.Integer(), nullable=True),
    sa.Column('fine_tuned_model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('adapter_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('last_checkpoint_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('last_checkpoint_step', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('remote_job_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('trainer_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainer_jobs_lease_expires_at'), ['lease_expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_trainer_jobs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_trainer_jobs_tenant'), ['tenant'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('trainer_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainer_jobs_tenant'))
        batch_op.drop_index(batch_op.f('ix_trainer_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_trainer_jobs_lease_expires_at'))

    op.drop_table('trainer_jobs')
    with op.batch_alter_table('trainer_job_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainer_job_events_job_id'))

    op.drop_table('trainer_job_events')
    op.drop_table('trainer_datasets')
