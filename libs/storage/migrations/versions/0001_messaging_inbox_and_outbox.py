"""Messaging: the inbox of processed message ids and the transactional outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:55:44.338770
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('messaging_outbox',
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('message_id')
    )
    with op.batch_alter_table('messaging_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messaging_outbox_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messaging_outbox_published_at'), ['published_at'], unique=False)

    op.create_table('messaging_processed',
    sa.Column('consumer', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'message_id')
    )


def downgrade() -> None:
    op.drop_table('messaging_processed')
    with op.batch_alter_table('messaging_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messaging_outbox_published_at'))
        batch_op.drop_index(batch_op.f('ix_messaging_outbox_created_at'))

    op.drop_table('messaging_outbox')
