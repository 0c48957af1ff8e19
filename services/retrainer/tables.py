"""The retrainer's tables: policies, their runs, and what each model's aliases serve."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.storage.columns import json_field, optional_timestamp_field, timestamp_field


class RetrainingPolicy(SQLModel, table=True):
    """One model's policy; ``active_run_id`` is set while a run goes on (never two at once)."""

    __tablename__ = "retrainer_policies"
    __table_args__ = (UniqueConstraint("tenant", "model_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    model_name: str = Field(max_length=64)
    enabled: bool = True
    spec: dict[str, Any] = json_field()
    gold_stars_baseline: int | None = Field(
        default=None, description="Gold stars counted when the last run started."
    )
    gold_stars_counted: int | None = None
    counted_at: datetime | None = optional_timestamp_field()
    schedule_anchor_at: datetime = timestamp_field()
    waiting_for: str | None = Field(default=None, max_length=500)
    active_run_id: str | None = Field(default=None, max_length=32)
    last_run_id: str | None = Field(default=None, max_length=32)
    runs: int = 0
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


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
    plan: dict[str, Any] = json_field()
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
    training_metrics: dict[str, float] = json_field()
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
    history: list[dict[str, Any]] = json_field(list)
    created_at: datetime = timestamp_field(index=True)
    updated_at: datetime = timestamp_field()
    stage_started_at: datetime = timestamp_field()
    finished_at: datetime | None = optional_timestamp_field()


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
    updated_at: datetime = timestamp_field()


__all__ = ["RetrainingPolicy", "RetrainingRun", "ServedVersion"]
