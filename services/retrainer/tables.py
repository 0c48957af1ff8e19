"""The retrainer's tables: policies, their runs, and what each model's aliases serve."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.envelope import utc_now


def _timestamp(**options: Any) -> Any:
    return Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, **options),
    )


def _optional_timestamp() -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


def _json(default: Any = dict) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class RetrainingPolicy(SQLModel, table=True):
    """One model's policy; ``active_run_id`` is set while a run goes on (never two at once)."""

    __tablename__ = "retrainer_policies"
    __table_args__ = (UniqueConstraint("tenant", "model_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    model_name: str = Field(max_length=64)
    enabled: bool = True
    spec: dict[str, Any] = _json()
    gold_stars_baseline: int | None = Field(
        default=None, description="Gold stars counted when the last run started."
    )
    gold_stars_counted: int | None = None
    counted_at: datetime | None = _optional_timestamp()
    schedule_anchor_at: datetime = _timestamp()
    waiting_for: str | None = Field(default=None, max_length=500)
    active_run_id: str | None = Field(default=None, max_length=32)
    last_run_id: str | None = Field(default=None, max_length=32)
    runs: int = 0
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class RetrainingRun(SQLModel, table=True):
    """One run of a policy, with the policy as it was when the run started (``plan``)."""

    __tablename__ = "retrainer_runs"

    id: str = Field(primary_key=True, max_length=32)
    tenant: str = Field(max_length=64, index=True)
    model_name: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16, index=True)
    trigger: str = Field(max_length=16)
    reason: str = Field(max_length=500)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    decision: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    plan: dict[str, Any] = _json()
    gold_stars: int | None = None
    base_model: str = Field(max_length=255)
    serving_alias: str = Field(max_length=32)
    serving_version: int | None = None
    serving_name: str | None = Field(default=None, max_length=128)
    export_id: str = Field(max_length=64, index=True)
    dataset: str = Field(max_length=128)
    dataset_version: int | None = None
    train_rows: int | None = None
    test_rows: int | None = None
    test_split_sha256: str | None = Field(default=None, max_length=64)
    job_id: str = Field(max_length=64, index=True)
    training_metrics: dict[str, float] = _json()
    candidate_version: int | None = None
    candidate_serving_name: str | None = Field(default=None, max_length=128)
    evaluation_id: str = Field(max_length=64, index=True)
    evaluation_requested: bool = False
    metric: str | None = Field(default=None, max_length=32)
    candidate_score: float | None = None
    serving_score: float | None = None
    experiment_id: str = Field(max_length=32, index=True)
    experiment_running: bool = False
    verdict: str | None = Field(default=None, max_length=32)
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    history: list[dict[str, Any]] = _json(list)
    created_at: datetime = _timestamp(index=True)
    updated_at: datetime = _timestamp()
    stage_started_at: datetime = _timestamp()
    finished_at: datetime | None = _optional_timestamp()


class ServedVersion(SQLModel, table=True):
    """What an alias of a model serves, from the registry's deploy and rollback events."""

    __tablename__ = "retrainer_served_versions"

    tenant: str = Field(primary_key=True, max_length=64)
    model_name: str = Field(primary_key=True, max_length=64)
    alias: str = Field(primary_key=True, max_length=32)
    version: int
    serving_name: str = Field(max_length=128)
    base_model: str = Field(max_length=255)
    alias_revision: int = 0
    updated_at: datetime = _timestamp()


__all__ = ["RetrainingPolicy", "RetrainingRun", "ServedVersion"]
