"""Trainer: a job records its owner (the API key that created it), to list one owner's jobs.

Revision ID: trainer_0004
Revises: exporter_0002
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "trainer_0004"
down_revision: str | None = "exporter_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trainer_jobs") as batch:
        batch.add_column(
            sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
        batch.create_index("ix_trainer_jobs_owner", ["owner"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trainer_jobs") as batch:
        batch.drop_index("ix_trainer_jobs_owner")
        batch.drop_column("owner")
