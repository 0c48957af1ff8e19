"""HTTP bodies of the router: experiments, feedback, and OpenAI-shaped errors."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.events.experiments import (
    Guardrails,
    PrimaryMetric,
    RecommendationWeights,
    StoppingPolicy,
)

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariantSpec(Body):
    name: str = Field(pattern=NAME_PATTERN)
    serving_name: str = Field(min_length=1, description="A registry version's serving name.")
    weight: float = Field(gt=0, lt=1, description="Share of the experiment's units.")


class ExperimentCreate(Body):
    """Split the traffic addressed to ``model_name`` between a control and treatments."""

    name: str = Field(pattern=NAME_PATTERN)
    model_name: str = Field(
        pattern=NAME_PATTERN, description="Requests for this model name join the experiment."
    )
    control: VariantSpec
    treatments: list[VariantSpec] = Field(min_length=1, max_length=4)
    primary_metric: PrimaryMetric = "gold_star_rate"
    minimum_detectable_effect: float = Field(
        default=0.05, gt=0, description="Smallest absolute difference worth detecting."
    )
    baseline: float | None = Field(
        default=None, gt=0, description="Expected control value, for planning."
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    stopping: StoppingPolicy = Field(default_factory=StoppingPolicy)
    weights: RecommendationWeights = Field(default_factory=RecommendationWeights)

    @model_validator(mode="after")
    def _weights_fit(self) -> "ExperimentCreate":
        names = [self.control.name, *(t.name for t in self.treatments)]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        if sum(t.weight for t in self.treatments) >= 1:
            raise ValueError("the treatments' weights must leave some traffic to the control")
        limit = 1 / len(self.treatments)
        for treatment in self.treatments:
            if treatment.weight > limit:
                raise ValueError(
                    f"treatment {treatment.name!r} has weight {treatment.weight}; "
                    f"with {len(self.treatments)} treatment(s) each can take at "
                    f"most {limit:.2f} of the traffic"
                )
        return self


class VariantPublic(Body):
    name: str
    serving_name: str
    weight: float
    is_control: bool


class ExperimentPublic(Body):
    id: str
    tenant: str
    name: str
    model_name: str
    status: Literal["running", "stopped"]
    stop_reason: str | None
    variants: list[VariantPublic]
    primary_metric: PrimaryMetric
    minimum_detectable_effect: float
    baseline: float | None
    alpha: float
    power: float
    guardrails: Guardrails
    stopping: StoppingPolicy
    weights: RecommendationWeights
    created_at: datetime


class RampRequest(Body):
    variant: str = Field(pattern=NAME_PATTERN)
    weight: float = Field(gt=0, lt=1)


class FeedbackRequest(Body):
    request_id: str = Field(
        min_length=1, max_length=64, description="The `X-Tuneloop-Request-Id` of the answer."
    )
    rating: int | None = Field(default=None, ge=1, le=5)
    gold_star: bool = False
    corrected_answer: str | None = Field(default=None, max_length=100_000)

    @model_validator(mode="after")
    def _says_something(self) -> "FeedbackRequest":
        if self.rating is None and not self.gold_star and self.corrected_answer is None:
            raise ValueError("give a rating, a gold_star or a corrected_answer")
        return self


class FeedbackAccepted(Body):
    id: str
    request_id: str


class OpenAIErrorInfo(Body):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(Body):
    """The error shape OpenAI's API (and its SDK) use."""

    error: OpenAIErrorInfo


__all__ = [
    "ExperimentCreate",
    "ExperimentPublic",
    "FeedbackAccepted",
    "FeedbackRequest",
    "OpenAIError",
    "OpenAIErrorInfo",
    "RampRequest",
    "VariantPublic",
    "VariantSpec",
]
