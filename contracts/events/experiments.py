"""An online experiment's definition, announced by the router that assigns its traffic."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.envelope import Event
from contracts.fields import ALIAS_PATTERN, MODEL_NAME_PATTERN

PrimaryMetric = Literal["gold_star_rate", "mean_rating", "task_success"]


class ExperimentArm(BaseModel):
    """One arm: a registry version served under its immutable serving name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variant: str = Field(min_length=1, max_length=64, description="e.g. `control`, `tuned`.")
    model_name: str = Field(pattern=MODEL_NAME_PATTERN)
    version: int = Field(ge=1)
    serving_name: str = Field(min_length=1, max_length=128)
    weight: float = Field(gt=0, description="Share of traffic, relative to the other arms.")


class Guardrails(BaseModel):
    """Limits a treatment must respect whatever its primary metric says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_error_rate_increase: float = Field(default=0.02, ge=0, le=1)
    max_fallback_rate_increase: float = Field(default=0.05, ge=0, le=1)
    max_p99_latency_ms: float | None = Field(default=None, gt=0)


class StoppingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["sequential", "fixed_horizon"] = Field(
        default="sequential",
        description="`sequential`: always-valid mSPRT, decide as soon as it is sure; "
        "`fixed_horizon`: one test once every arm reached the planned sample size.",
    )
    auto_promote: bool = Field(
        default=True, description="Promote a significant winner to `alias` in the registry."
    )
    alias: str = Field(default="production", pattern=ALIAS_PATTERN)
    min_units_per_arm: int = Field(default=100, ge=2)
    max_units_per_arm: int | None = Field(
        default=None,
        ge=2,
        description="Stop with no difference after this many units per arm; when unset, "
        "after three fixed-horizon sample sizes (sequential) or one (fixed horizon).",
    )


class RecommendationWeights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    quality: float = Field(default=0.6, ge=0)
    latency: float = Field(default=0.2, ge=0)
    cost: float = Field(default=0.2, ge=0)


class ExperimentStarted(Event):
    """An experiment began: control, treatments, what to measure and when to stop."""

    type: Literal["experiment.started"] = "experiment.started"
    experiment_id: str = Field(min_length=1, max_length=64)
    control: ExperimentArm
    treatments: list[ExperimentArm] = Field(min_length=1, max_length=8)
    primary_metric: PrimaryMetric = "gold_star_rate"
    minimum_detectable_effect: float = Field(
        gt=0, description="Smallest absolute difference worth detecting (e.g. 0.05 = 5 points)."
    )
    baseline: float | None = Field(
        default=None,
        gt=0,
        description="Expected control value, for fixed-horizon planning of proportions.",
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    stopping: StoppingPolicy = Field(default_factory=StoppingPolicy)
    weights: RecommendationWeights = Field(default_factory=RecommendationWeights)

    @model_validator(mode="after")
    def _distinct_variants(self) -> "ExperimentStarted":
        variants = [self.control.variant, *(arm.variant for arm in self.treatments)]
        if len(set(variants)) != len(variants):
            raise ValueError(f"variant names must be distinct, got {variants}")
        return self

    @property
    def arms(self) -> list[ExperimentArm]:
        return [self.control, *self.treatments]


class ExperimentRamped(Event):
    """A treatment's share of traffic changed; units already in it stay in it."""

    type: Literal["experiment.ramped"] = "experiment.ramped"
    experiment_id: str = Field(min_length=1, max_length=64)
    control: ExperimentArm
    treatments: list[ExperimentArm] = Field(min_length=1, max_length=8)


class ExperimentStopped(Event):
    """The router no longer splits this experiment's traffic."""

    type: Literal["experiment.stopped"] = "experiment.stopped"
    experiment_id: str = Field(min_length=1, max_length=64)
    reason: str


class ExperimentStartFailed(Event):
    """The router refused to start an experiment asked for by ``experiment.start``."""

    type: Literal["experiment.start_failed"] = "experiment.start_failed"
    experiment_id: str = Field(min_length=1, max_length=64)
    model_name: str
    code: str = Field(description="`unknown_serving_name`, `experiment_running` or `conflict`.")
    message: str = Field(description="What went wrong and what to do next.")


__all__ = [
    "ExperimentArm",
    "ExperimentRamped",
    "ExperimentStartFailed",
    "ExperimentStarted",
    "ExperimentStopped",
    "Guardrails",
    "PrimaryMetric",
    "RecommendationWeights",
    "StoppingPolicy",
]
