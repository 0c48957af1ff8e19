"""Trainer: a job can ask the exporter for its dataset first (``export_id`` of that export).

Revision ID: trainer_0003
Revises: gateway_0002
Create Date: 2026-11-22 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "trainer_0003"
down_revision: str | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trainer_jobs") as batch:
        batch.add_column(
            sa.Column("export_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.create_index("ix_trainer_jobs_export_id", ["export_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trainer_jobs") as batch:
        batch.drop_index("ix_trainer_jobs_export_id")
        batch.drop_column("export_id")
