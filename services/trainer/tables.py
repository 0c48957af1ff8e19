"""Tables of the trainer: jobs (with their worker lease) and each job's event history."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.envelope import utc_now


class TrainerJob(SQLModel, table=True):
    """A fine-tuning job; ``lease_*`` say which worker runs it and until when."""

    __tablename__ = "trainer_jobs"

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(max_length=64, index=True)
    owner: str | None = Field(
        default=None, max_length=128, index=True, description="API key id that created it."
    )
    status: str = Field(max_length=32, index=True)
    base_model: str = Field(max_length=512)
    training_file: str = Field(max_length=64, description="Empty while the job's export runs.")
    export_id: str | None = Field(
        default=None, max_length=64, index=True, description="The export this job waits for."
    )
    validation_file: str | None = Field(default=None, max_length=64)
    dataset: str | None = Field(default=None, max_length=255)
    dataset_version: int | None = None
    backend: str = Field(max_length=32)
    method: str = Field(max_length=32)
    hyperparameters: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    model_name: str | None = Field(default=None, max_length=255)
    suffix: str | None = Field(default=None, max_length=64)
    export_merged: bool = False
    merged_model_sha256: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    started_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    estimated_finish_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    train_rows: int = 0
    validation_rows: int = 0
    estimated_tokens: int = 0
    trained_tokens: int | None = None
    fine_tuned_model: str | None = Field(default=None, max_length=255)
    adapter_sha256: str | None = Field(default=None, max_length=64)
    last_checkpoint_sha256: str | None = Field(default=None, max_length=64)
    last_checkpoint_step: int | None = None
    attempts: int = 0
    remote_job_id: str | None = Field(default=None, max_length=128)
    cancel_requested: bool = False
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True)
    )
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    metrics: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TrainerJobEvent(SQLModel, table=True):
    """Every event of a job, in order: the full, replayable history."""

    __tablename__ = "trainer_job_events"
    __table_args__ = (UniqueConstraint("job_id", "sequence"),)

    message_id: str = Field(primary_key=True, max_length=64)
    job_id: str = Field(max_length=64, index=True)
    sequence: int
    type: str = Field(max_length=64)
    time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class TrainerDataset(SQLModel, table=True):
    """A dataset version the exporter announced: jobs can name it instead of its file."""

    __tablename__ = "trainer_datasets"

    tenant: str = Field(primary_key=True, max_length=64)
    dataset: str = Field(primary_key=True, max_length=255)
    version: int = Field(primary_key=True)
    artifact_sha256: str = Field(max_length=64)
    train_rows: int = 0
    validation_rows: int = 0
    token_count: int | None = None
    base_model: str | None = Field(default=None, max_length=512)
    exported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TrainerFile(SQLModel, table=True):
    """A file a tenant uploaded through the Files API; its bytes are an artifact."""

    __tablename__ = "trainer_files"

    tenant: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=32)
    sha256: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    bytes: int
    purpose: str = Field(max_length=32)
    rows: int = 0
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


__all__ = ["TrainerDataset", "TrainerFile", "TrainerJob", "TrainerJobEvent"]
