"""The configuration of a fine-tuning job, shared by the job command, its events and the API.

Hyperparameters follow OpenAI's fine-tuning API (``n_epochs``, ``batch_size``,
``learning_rate_multiplier`` each accept ``"auto"``) plus the LoRA settings of the open backends.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.selection import ExportFilters

Auto = Literal["auto"]
Backend = Literal["auto", "trl", "unsloth", "openai"]
Method = Literal["supervised", "dpo"]
JobStatus = Literal["validating_files", "queued", "running", "succeeded", "failed", "cancelled"]
DEFAULT_DPO_BETA = 0.1
TERMINAL_STATUSES: tuple[JobStatus, ...] = ("succeeded", "failed", "cancelled")


class Hyperparameters(BaseModel):
    """How to train; every ``auto`` is resolved from the dataset and the base model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_epochs: int | Auto = Field(default="auto", description="Passes over the training rows.")
    batch_size: int | Auto = Field(default="auto", description="Rows per optimizer step.")
    learning_rate: float | Auto = Field(
        default="auto", description="Peak learning rate; `auto` is 2e-4 times the multiplier."
    )
    learning_rate_multiplier: float | Auto = Field(
        default="auto", description="Scales the automatic learning rate (OpenAI's knob)."
    )
    max_steps: int | None = Field(
        default=None, ge=1, description="Stop after this many optimizer steps (overrides epochs)."
    )
    lora_r: int = Field(default=8, ge=1, le=512, description="LoRA rank.")
    lora_alpha: int = Field(default=16, ge=1, description="LoRA scaling numerator.")
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    lora_target_modules: list[str] | Auto = Field(
        default="auto",
        description="Module names to adapt; `auto` picks the attention and MLP "
        "projections the model has.",
    )
    qlora: bool = Field(default=False, description="Load the base model in 4 bits (GPU only).")
    max_seq_length: int | Auto = Field(
        default="auto", description="Longest row in tokens; `auto` is the model's context."
    )
    packing: bool = Field(default=False, description="Pack several rows into one sequence.")
    seed: int = Field(default=0, ge=0)
    validation_split: float = Field(
        default=0.0,
        ge=0,
        le=0.5,
        description="Share of training rows held out for validation "
        "when no validation file is given.",
    )
    eval_steps: int | None = Field(default=None, ge=1, description="Validate every N steps.")
    early_stopping_patience: int | None = Field(
        default=None, ge=1, description="Stop after N validations without a lower loss."
    )
    checkpoint_steps: int | None = Field(
        default=None, ge=1, description="Save a checkpoint every N steps (default: 4 per run)."
    )
    beta: float | Auto = Field(
        default="auto",
        description="DPO only: how strongly the tuned model is kept near the base model "
        "(OpenAI's `beta`); `auto` is 0.1.",
    )

    def resolved_beta(self) -> float:
        if self.beta == "auto":
            return DEFAULT_DPO_BETA
        if self.beta <= 0:
            raise ValueError("beta must be positive")
        return self.beta

    def resolved_learning_rate(self) -> float:
        if self.learning_rate != "auto":
            return self.learning_rate
        multiplier = (
            1.0 if self.learning_rate_multiplier == "auto" else self.learning_rate_multiplier
        )
        return 2e-4 * multiplier


class JobExport(BaseModel):
    """Export a dataset first and train on it: the job asks the exporter for this version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Dataset the new version belongs to.",
    )
    filters: ExportFilters = Field(default_factory=ExportFilters)
    test_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    min_examples: int | None = Field(default=None, ge=1)


class JobError(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    message: str
    param: str | None = None


__all__ = [
    "TERMINAL_STATUSES",
    "Auto",
    "Backend",
    "Hyperparameters",
    "JobError",
    "JobExport",
    "JobStatus",
    "Method",
]
