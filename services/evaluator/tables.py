"""The evaluator's tables: experiments, per-arm sufficient statistics, requests, evaluations."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.storage.columns import json_field, optional_timestamp_field, timestamp_field


class Experiment(SQLModel, table=True):
    __tablename__ = "evaluator_experiments"
    __table_args__ = (UniqueConstraint("tenant", "experiment_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    experiment_id: str = Field(max_length=64)
    definition: dict[str, Any] = json_field()
    status: str = Field(default="running", max_length=16)
    verdict: str | None = Field(default=None, max_length=32)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    running_looks: dict[str, Any] = json_field()
    last_snapshot_at: datetime | None = optional_timestamp_field()
    created_at: datetime = timestamp_field()
    concluded_at: datetime | None = optional_timestamp_field()


class ArmTotals(SQLModel, table=True):
    """Sufficient statistics of one arm: counts and sums, never the raw events."""

    __tablename__ = "evaluator_arms"
    __table_args__ = (UniqueConstraint("experiment_pk", "variant"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment_pk: int = Field(foreign_key="evaluator_experiments.id", index=True)
    variant: str = Field(max_length=64)
    serving_name: str = Field(max_length=128)
    requests: int = 0
    errors: int = 0
    fallbacks: int = 0
    latency_total_ms: float = 0.0
    latency_histogram: list[int] = json_field(list)
    metric_n: int = 0
    metric_total: float = 0.0
    metric_total_squares: float = 0.0


class ExperimentRequest(SQLModel, table=True):
    """A request of an experiment, so feedback without experiment ids finds its arm."""

    __tablename__ = "evaluator_requests"
    __table_args__ = (UniqueConstraint("tenant", "request_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    request_id: str = Field(max_length=128)
    experiment_id: str | None = Field(default=None, max_length=64)
    variant: str | None = Field(default=None, max_length=64)
    served: bool = False
    counted: bool = Field(default=False, description="Counted in its arm's sums.")
    failed: bool = False
    fallback: bool = False
    latency_ms: float | None = None
    feedback_received: bool = False
    feedback_applied: bool = False
    gold_star: bool = False
    rating: int | None = None
    created_at: datetime = timestamp_field()


class Evaluation(SQLModel, table=True):
    """An offline evaluation job: prompts run through one or more models."""

    __tablename__ = "evaluator_evaluations"
    __table_args__ = (UniqueConstraint("tenant", "evaluation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    evaluation_id: str = Field(max_length=64)
    status: str = Field(default="queued", max_length=16)
    request: dict[str, Any] = json_field()
    total: int = 0
    done: int = 0
    metrics: dict[str, Any] = json_field()
    comparisons: list[Any] = json_field(list)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = timestamp_field()
    completed_at: datetime | None = optional_timestamp_field()


class EvaluationOutput(SQLModel, table=True):
    """One prompt's answer from one model: kept for the side-by-side view."""

    __tablename__ = "evaluator_outputs"
    __table_args__ = (UniqueConstraint("evaluation_pk", "prompt_index", "model"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_pk: int = Field(foreign_key="evaluator_evaluations.id", index=True)
    prompt_index: int
    model: str = Field(max_length=128)
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    latency_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    scores: dict[str, float] = json_field()


__all__ = [
    "ArmTotals",
    "Evaluation",
    "EvaluationOutput",
    "Experiment",
    "ExperimentRequest",
]
