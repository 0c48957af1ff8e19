"""Fine-tuning job objects shaped like OpenAI's, so its SDK reads them unchanged."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.training import Backend, Hyperparameters, JobError, JobExport, JobStatus

FileReference = Annotated[str, StringConstraints(pattern=r"^(file-[0-9a-f]{24}|[0-9a-f]{64})$")]
"""An uploaded file's id or an artifact's sha256."""


class SupervisedMethod(BaseModel):
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)


class DpoMethod(BaseModel):
    """OpenAI's ``method.dpo``: preference training, its hyperparameters include ``beta``."""

    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)


class FineTuningMethod(BaseModel):
    type: Literal["supervised", "dpo"] = "supervised"
    supervised: SupervisedMethod | None = None
    dpo: DpoMethod | None = None

    def hyperparameters(self) -> Hyperparameters | None:
        chosen = self.dpo if self.type == "dpo" else self.supervised
        return chosen.hyperparameters if chosen is not None else None


class CreateFineTuningJob(BaseModel):
    """``POST /v1/fine_tuning/jobs``: OpenAI's fields plus tuneloop's lineage and backend."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="Base model name or local HF directory.")
    training_file: FileReference | None = Field(
        default=None,
        description="An uploaded file's id (`file-...`) or the sha256 of the training file "
        "artifact; or give `dataset` and `dataset_version` of an exported dataset instead.",
    )
    validation_file: FileReference | None = None
    export: JobExport | None = Field(
        default=None,
        description="Export a dataset version from stored examples first, then train on it "
        "(instead of `training_file` or `dataset`).",
    )
    hyperparameters: Hyperparameters | None = None
    method: FineTuningMethod | None = None
    suffix: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        description="Letters, digits, '-' and '_' added to the fine-tuned model's name.",
    )
    seed: int | None = Field(default=None, ge=0)
    backend: Backend = "auto"
    dataset: str | None = None
    dataset_version: int | None = Field(default=None, ge=1)
    model_name: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$",
        description="Registry model the result joins (lowercase, no '/'); default from the "
        "dataset or suffix.",
    )
    export_merged: bool = Field(
        default=False, description="Also store the merged model (base plus adapter)."
    )
    metadata: dict[str, str] | None = None


class FineTuningJob(BaseModel):
    object: Literal["fine_tuning.job"] = "fine_tuning.job"
    id: str
    created_at: int
    finished_at: int | None = None
    model: str
    fine_tuned_model: str | None = None
    organization_id: str
    status: JobStatus
    hyperparameters: dict[str, Any]
    training_file: str
    validation_file: str | None = None
    result_files: list[str] = Field(default_factory=list)
    trained_tokens: int | None = None
    error: JobError | None = None
    seed: int
    estimated_finish: int | None = None
    integrations: list[Any] | None = None
    method: FineTuningMethod
    user_provided_suffix: str | None = None
    metadata: dict[str, str] | None = None
    backend: str = "auto"
    dataset: str | None = None
    dataset_version: int | None = None
    owner: str | None = Field(
        default=None,
        description="tuneloop's addition: id of the API key that created the job (None for "
        "jobs automatic retraining started); list one owner's jobs with `?owner=`.",
    )


class FineTuningJobEvent(BaseModel):
    object: Literal["fine_tuning.job.event"] = "fine_tuning.job.event"
    id: str
    created_at: int
    level: Literal["info", "warn", "error"] = "info"
    message: str
    type: Literal["message", "metrics"] = "message"
    data: dict[str, Any] = Field(default_factory=dict)


class FineTuningJobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FineTuningJob]
    has_more: bool = False


class FineTuningJobEventList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FineTuningJobEvent]
    has_more: bool = False


__all__ = [
    "CreateFineTuningJob",
    "FineTuningJob",
    "FineTuningJobEvent",
    "FineTuningJobEventList",
    "FineTuningJobList",
    "FineTuningMethod",
    "SupervisedMethod",
]
