"""Exporter: each example keeps the shape of its conversation when it is plain (messages,
user text and response lengths, system message), so exports judge it without parsing it.

Examples stored before this revision have no shape; exports parse and check them in full.

Revision ID: exporter_0003
Revises: trainer_0004
Create Date: 2026-12-07 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "exporter_0003"
down_revision: str | None = "trainer_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("message_count", "prompt_chars", "response_chars")


def upgrade() -> None:
    with op.batch_alter_table("exporter_examples") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch.add_column(sa.Column("system_prompt", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exporter_examples") as batch:
        batch.drop_column("system_prompt")
        for name in reversed(COLUMNS):
            batch.drop_column(name)
