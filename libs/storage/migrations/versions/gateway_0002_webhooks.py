"""Gateway: webhooks and their deliveries.

Revision ID: gateway_0002
Revises: trainer_0002
Create Date: 2026-11-22 02:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'gateway_0002'
down_revision: str | None = 'trainer_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('gateway_webhooks',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('event_types', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gateway_webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_webhooks_tenant'), ['tenant'], unique=False)

    op.create_table('gateway_webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('webhook_id', 'event_id')
    )
    with op.batch_alter_table('gateway_webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_webhook_deliveries_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_gateway_webhook_deliveries_webhook_id'), ['webhook_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('gateway_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_webhook_deliveries_webhook_id'))
        batch_op.drop_index(batch_op.f('ix_gateway_webhook_deliveries_status'))

    op.drop_table('gateway_webhook_deliveries')
    with op.batch_alter_table('gateway_webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_webhooks_tenant'))

    op.drop_table('gateway_webhooks')
