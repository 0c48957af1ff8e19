"""Events of the trainer: the life of a fine-tuning job."""

from typing import Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.fields import ErrorDetail, Metrics, Sha256
from contracts.money import Usd
from contracts.training import Backend, Hyperparameters, JobExport, Method


class JobEvent(Event):
    """Fields every job event carries."""

    job_id: str = Field(min_length=1, description="The fine-tuning job.")


class JobCreated(JobEvent):
    type: Literal["job.created"] = "job.created"
    base_model: str
    training_file: Sha256 | None = Field(
        default=None, description="None while the job waits for its `export`."
    )
    export: JobExport | None = None
    validation_file: Sha256 | None = None
    dataset: str | None = None
    dataset_version: int | None = Field(default=None, ge=1)
    backend: Backend = "auto"
    method: Method = "supervised"
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    model_name: str | None = None
    suffix: str | None = None
    export_merged: bool = False
    owner: str | None = Field(
        default=None, description="Id of the API key that created the job, if one did."
    )


class JobQueued(JobEvent):
    """The files are valid; the job waits for a trainer worker."""

    type: Literal["job.queued"] = "job.queued"
    train_rows: int = Field(ge=0)
    validation_rows: int = Field(default=0, ge=0)
    estimated_tokens: int = Field(ge=0, description="Tokens the job will train on (estimate).")


class JobEstimated(JobEvent):
    """What the job is expected to cost and take, from the cost service's price table,
    asked before the job is queued (and checked against the tenant's budgets)."""

    type: Literal["job.estimated"] = "job.estimated"
    trained_tokens: int = Field(
        ge=0, description="Σ min(context, tokens per example) x epochs, real tokenizer."
    )
    epochs: int = Field(ge=1)
    hardware: str = Field(description="Hardware kind the estimate is for.")
    wall_seconds: float = Field(ge=0, description="Expected training time on that hardware.")
    cost_usd: Usd = Field(description="Expected cost on that hardware.")
    basis: Literal["prior", "measured"] = Field(
        description="`measured` once jobs on this hardware have completed, else the prior."
    )
    price_version: int = Field(ge=0, description="Price table version; 0 is the shipped table.")


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
    reason: Literal["step", "eval", "checkpoint", "final"] = Field(
        default="step", description="What triggered this report (steps are throttled)."
    )


class JobCheckpointed(JobEvent):
    type: Literal["job.checkpoint"] = "job.checkpoint"
    step: int = Field(ge=0)
    artifact_sha256: Sha256
    train_loss: float | None = None
    validation_loss: float | None = None


class JobCompleted(JobEvent):
    type: Literal["job.completed"] = "job.completed"
    base_model: str
    model_name: str = Field(description="Registry model the adapter belongs to.")
    fine_tuned_model: str = Field(description="Name of the result, e.g. `tiny-llama:support:j1`.")
    dataset: str | None = None
    dataset_version: int | None = Field(default=None, ge=1)
    training_file: Sha256 | None = None
    adapter_sha256: Sha256
    adapter_uri: str
    adapter_bytes: int = Field(ge=0)
    metrics: Metrics = Field(default_factory=dict)
    trained_tokens: int = Field(ge=0)
    wall_seconds: float = Field(ge=0)
    hyperparameters: dict[str, float | int | str | bool | list[str] | None] = Field(
        default_factory=dict, description="The hyperparameters with every `auto` resolved."
    )
    backend: str = "trl"
    merged_model_sha256: Sha256 | None = Field(
        default=None, description="The merged model directory (tar), when it was asked for."
    )


class JobFailed(JobEvent):
    type: Literal["job.failed"] = "job.failed"
    error: ErrorDetail


class JobCancelled(JobEvent):
    type: Literal["job.cancelled"] = "job.cancelled"
    last_checkpoint_sha256: Sha256 | None = None
