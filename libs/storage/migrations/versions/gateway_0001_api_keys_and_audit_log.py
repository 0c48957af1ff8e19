"""Gateway: API keys (hashed) and the audit log of mutating requests.

Revision ID: gateway_0001
Revises: registry_0003
Create Date: 2026-11-22 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'gateway_0001'
down_revision: str | None = 'registry_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('gateway_api_keys',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('secret_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gateway_api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_api_keys_tenant'), ['tenant'], unique=False)

    op.create_table('gateway_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gateway_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_audit_log_tenant'), ['tenant'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('gateway_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_audit_log_tenant'))

    op.drop_table('gateway_audit_log')
    with op.batch_alter_table('gateway_api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_api_keys_tenant'))

    op.drop_table('gateway_api_keys')
