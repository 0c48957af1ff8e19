"""Commands for the trainer."""

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from contracts.envelope import Command
from contracts.fields import Sha256
from contracts.training import Backend, Hyperparameters, JobExport, Method


class CreateJob(Command):
    """Fine-tune ``base_model`` on the training file (an artifact of a dataset version)."""

    SERVICE: ClassVar[str] = "trainer"
    type: Literal["job.create"] = "job.create"
    job_id: str = Field(min_length=1, max_length=64)
    base_model: str = Field(min_length=1, description="Known base model name or HF directory.")
    training_file: Sha256 | None = Field(
        default=None, description="Artifact of the OpenAI chat JSONL rows; or give `export`."
    )
    export: JobExport | None = Field(
        default=None,
        description="Export this dataset first (the trainer asks the exporter) and train on it.",
    )
    validation_file: Sha256 | None = Field(default=None, description="Held-out rows, if any.")
    dataset: str | None = Field(default=None, description="Dataset the file came from.")
    dataset_version: int | None = Field(default=None, ge=1)
    backend: Backend = "auto"
    method: Method = "supervised"
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    model_name: str | None = Field(
        default=None, description="Registry model of the adapter; default the dataset name."
    )
    suffix: str | None = Field(default=None, max_length=64)
    export_merged: bool = Field(
        default=False, description="Also store the base model with the adapter merged in."
    )
    owner: str | None = Field(
        default=None,
        max_length=128,
        description="Id of the API key that asked for the job; None for jobs tuneloop started "
        "itself (automatic retraining).",
    )

    @model_validator(mode="after")
    def one_source_of_rows(self) -> "CreateJob":
        if (self.training_file is None) == (self.export is None):
            raise ValueError("give exactly one of training_file or export")
        return self


class CancelJob(Command):
    SERVICE: ClassVar[str] = "trainer"
    type: Literal["job.cancel"] = "job.cancel"
    job_id: str = Field(min_length=1)
