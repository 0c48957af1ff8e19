"""What the service hands a training process, and the reports it gets back."""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from contracts.training import Hyperparameters, Method


class TrainingSpec(BaseModel):
    """One run of one job, written as JSON next to the job's scratch directory."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    base_model: str
    models_dir: Path
    train_file: Path
    validation_file: Path | None = None
    hyperparameters: Hyperparameters = Hyperparameters()
    backend: Literal["auto", "trl", "unsloth", "openai"] = "auto"
    method: Method = "supervised"
    output_dir: Path
    resume_from: Path | None = None
    export_merged: bool = False
    progress_interval_seconds: float = 0.5
    torch_threads: int = 0


class Report(BaseModel):
    """One JSON line from the training process: ``kind`` plus its fields."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["validated", "progress", "checkpoint", "completed", "cancelled", "failed"]

    def field(self, name: str, default: Any = None) -> Any:
        return (self.model_extra or {}).get(name, default)


__all__ = ["Report", "TrainingSpec"]
