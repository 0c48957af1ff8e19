"""Exporter: exports run in the background, with their status, lease and outcome.

Revision ID: exporter_0002
Revises: retrainer_0001
Create Date: 2026-11-22 05:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "exporter_0002"
down_revision: str | None = "retrainer_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exporter_exports",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenant", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("dataset", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exporter_exports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exporter_exports_status_lease", ["status", "lease_expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exporter_exports_tenant"), ["tenant"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exporter_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exporter_exports_tenant"))
        batch_op.drop_index("ix_exporter_exports_status_lease")
    op.drop_table("exporter_exports")
