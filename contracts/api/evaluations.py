"""HTTP bodies of the evaluator: experiment statistics and offline evaluations."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.events.evaluations import ArmStatistics, TreatmentResult
from contracts.fields import Sha256


class ExperimentView(BaseModel):
    """An experiment's statistics and verdict as of now."""

    model_config = ConfigDict(extra="forbid")

    experiment_id: str
    status: Literal["running", "concluded"]
    verdict: str | None = None
    summary: str
    primary_metric: str
    method: str
    alpha: float
    arms: list[ArmStatistics]
    results: list[TreatmentResult]
    srm_p_value: float | None = None
    planned_units_per_arm: int | None = Field(
        default=None, description="Units per arm a fixed-horizon test would need."
    )
    recommendation: str | None = None
    definition: dict[str, Any]
    created_at: datetime
    concluded_at: datetime | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class PromptCase(BaseModel):
    """One prompt: a plain prompt or chat messages, and the reference answer if known."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str | None = Field(default=None, min_length=1)
    messages: list[ChatMessage] | None = Field(default=None, min_length=1)
    reference: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> "PromptCase":
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of `prompt` or `messages`")
        return self

    def chat(self) -> list[ChatMessage]:
        if self.messages is not None:
            return self.messages
        return [ChatMessage(role="user", content=self.prompt or "")]


ScoreName = Literal[
    "exact_match",
    "normalized_match",
    "substring_match",
    "rouge_l",
    "bleu",
    "json_field_accuracy",
]


class EvaluationRequest(BaseModel):
    """Run prompts through one or more models and compare them."""

    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(
        min_length=1, max_length=8, description="Model or serving names, as the router knows them."
    )
    prompts: list[PromptCase] | None = Field(default=None, min_length=1, max_length=10_000)
    dataset_sha256: Sha256 | None = Field(
        default=None, description="An OpenAI chat JSONL file in the artifact store."
    )
    split: str | None = Field(
        default="test",
        description="Rows whose `split` field has this value (rows without one count).",
    )
    task: Literal["auto", "labels"] = Field(
        default="auto", description="`labels`: answers are class labels; adds precision/recall/F1."
    )
    primary_metric: ScoreName = Field(
        default="normalized_match", description="Per-prompt score the pairwise comparison uses."
    )
    max_tokens: int = Field(default=256, ge=1, le=8192)
    price_per_million_tokens: dict[str, float] = Field(
        default_factory=dict, description="Price per model, for cost per 1M tokens."
    )
    judge_model: str | None = Field(
        default=None, description="Also ask this model which of two answers is better."
    )

    @model_validator(mode="after")
    def _one_source(self) -> "EvaluationRequest":
        if (self.prompts is None) == (self.dataset_sha256 is None):
            raise ValueError("give exactly one of `prompts` or `dataset_sha256`")
        if len(set(self.models)) != len(self.models):
            raise ValueError("each model may appear only once in `models`")
        return self


class PairwiseResult(BaseModel):
    """Model B against model A on the same prompts."""

    model_config = ConfigDict(extra="forbid")

    model_a: str
    model_b: str
    metric: str
    wins: int = Field(description="Prompts where B scored higher than A.")
    losses: int
    ties: int
    win_rate: float = Field(description="Wins over decided prompts.")
    win_rate_low: float
    win_rate_high: float
    p_value: float
    method: str


class EvaluationView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evaluation_id: str
    status: Literal["running", "completed", "failed"]
    models: list[str]
    total: int
    done: int
    metrics: dict[str, dict[str, float]] = Field(default_factory=dict)
    comparisons: list[PairwiseResult] = Field(default_factory=list)
    summary: str = ""
    error: str | None = None
    created_at: datetime
    completed_at: datetime | None = None


class ModelOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    response: str | None
    error: str | None
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    scores: dict[str, float]


class SideBySideRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt_index: int
    prompt: str
    reference: str | None
    outputs: list[ModelOutput]


class SideBySide(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evaluation_id: str
    total_prompts: int
    offset: int
    rows: list[SideBySideRow]


__all__ = [
    "ChatMessage",
    "EvaluationRequest",
    "EvaluationView",
    "ExperimentView",
    "ModelOutput",
    "PairwiseResult",
    "PromptCase",
    "ScoreName",
    "SideBySide",
    "SideBySideRow",
]
