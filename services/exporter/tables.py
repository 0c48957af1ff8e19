"""Tables of the exporter: rated examples, feedback waiting for its example, dataset versions
and the exports that make them.

Every row carries its tenant; nothing is deleted, only marked deleted.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.envelope import new_message_id, utc_now


class ExporterExample(SQLModel, table=True):
    """One rated conversation. ``messages`` and ``tools`` are canonical JSON text."""

    __tablename__ = "exporter_examples"
    __table_args__ = (
        Index("ix_exporter_examples_tenant_normalized", "tenant", "normalized_hash", "id"),
        Index("ix_exporter_examples_tenant_request", "tenant", "request_id"),
        UniqueConstraint("tenant", "external_key", name="uq_exporter_examples_external"),
    )

    id: str = Field(default_factory=new_message_id, primary_key=True, max_length=32)
    tenant: str = Field(max_length=64)
    messages: str = Field(sa_column=Column(Text, nullable=False))
    tools: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rating: int | None = None
    gold_star: bool = False
    domain: str | None = Field(default=None, max_length=128)
    task_type: str | None = Field(default=None, max_length=128)
    owner: str | None = Field(default=None, max_length=128)
    source: str = Field(default="api", max_length=128)
    request_id: str | None = Field(default=None, max_length=128)
    external_key: str | None = Field(default=None, max_length=255)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    token_count: int | None = Field(default=None, description="Tokens, as counted on intake.")
    token_counter: str | None = Field(
        default=None, max_length=128, description="The tokenizer `token_count` comes from."
    )
    message_count: int | None = Field(
        default=None, description="Messages of a plain conversation; null if not plain."
    )
    prompt_chars: int | None = Field(
        default=None, description="User text of a plain conversation, in characters."
    )
    response_chars: int | None = Field(
        default=None, description="Response of a plain conversation, in characters."
    )
    system_prompt: bool | None = Field(
        default=None, description="Whether a plain conversation starts with a system message."
    )
    content_hash: str = Field(max_length=32, description="Exact content.")
    normalized_hash: str = Field(max_length=32, description="Content, whitespace/case folded.")
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ExporterFeedback(SQLModel, table=True):
    """A rating that arrived for a served request, kept until (and after) it is applied."""

    __tablename__ = "exporter_feedback"

    tenant: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(primary_key=True, max_length=128)
    rating: int | None = None
    gold_star: bool = False
    received_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ExporterDatasetVersion(SQLModel, table=True):
    """An immutable dataset version: its files and manifest live in the artifact store."""

    __tablename__ = "exporter_dataset_versions"
    __table_args__ = (
        UniqueConstraint("tenant", "dataset", "version", name="uq_exporter_dataset_versions"),
    )

    id: str = Field(default_factory=new_message_id, primary_key=True, max_length=64)
    tenant: str = Field(max_length=64, index=True)
    dataset: str = Field(max_length=128)
    version: int
    format: str = Field(max_length=32)
    train_rows: int
    test_rows: int
    train_sha256: str = Field(max_length=64)
    test_sha256: str | None = Field(default=None, max_length=64)
    manifest_sha256: str = Field(max_length=64)
    manifest: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ExporterExport(SQLModel, table=True):
    """One export: what was asked, how far it got and, at the end, its version or its error.

    The process running it holds a lease it renews; an export whose lease ran out (its process
    stopped) is taken over by another.
    """

    __tablename__ = "exporter_exports"
    __table_args__ = (Index("ix_exporter_exports_status_lease", "status", "lease_expires_at"),)

    id: str = Field(default_factory=new_message_id, primary_key=True, max_length=64)
    tenant: str = Field(max_length=64, index=True)
    dataset: str = Field(max_length=128)
    status: str = Field(default="queued", max_length=16)
    request: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    version: int | None = None
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    started_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


__all__ = ["ExporterDatasetVersion", "ExporterExample", "ExporterExport", "ExporterFeedback"]
