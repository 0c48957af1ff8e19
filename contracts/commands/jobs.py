"""Commands for the trainer."""

from typing import Any, ClassVar, Literal

from pydantic import Field

from contracts.envelope import Command


class CreateJob(Command):
    SERVICE: ClassVar[str] = "trainer"
    type: Literal["job.create"] = "job.create"
    job_id: str = Field(min_length=1)
    base_model: str
    dataset: str
    dataset_version: int = Field(ge=1)
    backend: Literal["auto", "trl", "unsloth", "openai"] = "auto"
    method: Literal["supervised", "dpo"] = "supervised"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    suffix: str | None = None


class CancelJob(Command):
    SERVICE: ClassVar[str] = "trainer"
    type: Literal["job.cancel"] = "job.cancel"
    job_id: str = Field(min_length=1)
