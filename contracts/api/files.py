"""File objects shaped like OpenAI's Files API (purpose ``fine-tune``), and job checkpoints."""

from typing import Literal

from pydantic import BaseModel, Field

FILE_ID_PATTERN = r"^file-[0-9a-f]{24}$"


class FileUpload(BaseModel):
    """``POST /v1/files``: a ``multipart/form-data`` form (the OpenAI SDK's ``files.create``)."""

    file: bytes = Field(
        json_schema_extra={"format": "binary"},
        description="Chat JSONL, one {messages} per line; streamed to disk as it arrives, "
        "refused with 413 once larger than the trainer's limit.",
    )
    purpose: Literal["fine-tune"]


class FileObject(BaseModel):
    object: Literal["file"] = "file"
    id: str = Field(description="`file-` and 24 hex digits of the content's sha256.")
    bytes: int
    created_at: int
    filename: str
    purpose: Literal["fine-tune"] = "fine-tune"
    status: Literal["processed"] = "processed"
    sha256: str = Field(description="The artifact; a job may name it as `training_file` too.")


class FileList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FileObject]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class FileDeleted(BaseModel):
    object: Literal["file"] = "file"
    id: str
    deleted: bool = True


class CheckpointMetrics(BaseModel):
    step: float | None = None
    train_loss: float | None = None
    valid_loss: float | None = None


class FineTuningCheckpoint(BaseModel):
    object: Literal["fine_tuning.job.checkpoint"] = "fine_tuning.job.checkpoint"
    id: str
    created_at: int
    fine_tuned_model_checkpoint: str = Field(description="The checkpoint's artifact sha256.")
    fine_tuning_job_id: str
    step_number: int
    metrics: CheckpointMetrics


class FineTuningCheckpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FineTuningCheckpoint]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


__all__ = [
    "FILE_ID_PATTERN",
    "CheckpointMetrics",
    "FileDeleted",
    "FileList",
    "FileObject",
    "FileUpload",
    "FineTuningCheckpoint",
    "FineTuningCheckpointList",
]
