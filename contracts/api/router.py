"""HTTP bodies of the router: experiments, feedback, and OpenAI-shaped errors."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
PrimaryMetric = Literal["gold_star_rate", "mean_rating", "task_success"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariantSpec(Body):
    name: str = Field(pattern=NAME_PATTERN)
    serving_name: str = Field(min_length=1, description="A registry version's serving name.")
    weight: float = Field(ge=0, le=1, description="Share of the experiment's units.")


class ExperimentCreate(Body):
    """Split the traffic addressed to ``model_name`` between a control and treatments."""

    name: str = Field(pattern=NAME_PATTERN)
    model_name: str = Field(
        pattern=NAME_PATTERN, description="Requests for this model name join the experiment."
    )
    control: VariantSpec
    treatments: list[VariantSpec] = Field(min_length=1, max_length=4)
    primary_metric: PrimaryMetric = "gold_star_rate"
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    minimum_detectable_effect: float | None = Field(default=None, gt=0)
    guardrails: dict[str, float] = Field(
        default_factory=dict, description='e.g. {"error_rate": 0.02}'
    )

    @model_validator(mode="after")
    def _weights_fit(self) -> "ExperimentCreate":
        names = [self.control.name, *(t.name for t in self.treatments)]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
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
    variants: list[VariantPublic]
    primary_metric: PrimaryMetric
    alpha: float
    minimum_detectable_effect: float | None
    guardrails: dict[str, float]
    created_at: datetime


class RampRequest(Body):
    variant: str = Field(pattern=NAME_PATTERN)
    weight: float = Field(ge=0, le=1)


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
