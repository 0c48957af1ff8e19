"""Events of the trainer: the life of a fine-tuning job."""

from typing import Any, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.fields import ErrorDetail, Metrics, Sha256


class JobEvent(Event):
    """Fields every job event carries."""

    job_id: str = Field(min_length=1, description="The fine-tuning job.")


class JobCreated(JobEvent):
    type: Literal["job.created"] = "job.created"
    base_model: str
    dataset: str
    dataset_version: int = Field(ge=1)
    backend: Literal["auto", "trl", "unsloth", "openai"] = "auto"
    method: Literal["supervised", "dpo"] = "supervised"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    suffix: str | None = None


class JobStarted(JobEvent):
    type: Literal["job.started"] = "job.started"
    worker: str = Field(description="Trainer worker that runs the job.")
    backend: str
    attempt: int = Field(default=1, ge=1)
    resumed_from_step: int | None = Field(default=None, ge=0)


class JobProgressed(JobEvent):
    type: Literal["job.progress"] = "job.progress"
    step: int = Field(ge=0)
    total_steps: int = Field(ge=0)
    epoch: float = Field(ge=0)
    train_loss: float | None = None
    validation_loss: float | None = None
    learning_rate: float | None = None
    tokens_per_second: float | None = Field(default=None, ge=0)
    eta_seconds: float | None = Field(default=None, ge=0)


class JobCheckpointed(JobEvent):
    type: Literal["job.checkpoint"] = "job.checkpoint"
    step: int = Field(ge=0)
    artifact_sha256: Sha256


class JobCompleted(JobEvent):
    type: Literal["job.completed"] = "job.completed"
    base_model: str
    model_name: str = Field(description="Registry model the adapter belongs to.")
    dataset: str
    dataset_version: int = Field(ge=1)
    adapter_sha256: Sha256
    adapter_uri: str
    adapter_bytes: int = Field(ge=0)
    metrics: Metrics = Field(default_factory=dict)
    trained_tokens: int = Field(ge=0)
    wall_seconds: float = Field(ge=0)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


class JobFailed(JobEvent):
    type: Literal["job.failed"] = "job.failed"
    error: ErrorDetail


class JobCancelled(JobEvent):
    type: Literal["job.cancelled"] = "job.cancelled"
    last_checkpoint_sha256: Sha256 | None = None
