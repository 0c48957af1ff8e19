"""Events of the router about the experiments it runs (the evaluator judges them)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Event


class ExperimentVariant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    serving_name: str
    weight: float = Field(ge=0, le=1)
    is_control: bool


class ExperimentStarted(Event):
    type: Literal["experiment.started"] = "experiment.started"
    experiment_id: str
    name: str
    model_name: str
    variants: list[ExperimentVariant]
    primary_metric: Literal["gold_star_rate", "mean_rating", "task_success"]
    alpha: float
    minimum_detectable_effect: float | None = None
    guardrails: dict[str, float] = Field(default_factory=dict)


class ExperimentRamped(Event):
    type: Literal["experiment.ramped"] = "experiment.ramped"
    experiment_id: str
    variants: list[ExperimentVariant]


class ExperimentStopped(Event):
    type: Literal["experiment.stopped"] = "experiment.stopped"
    experiment_id: str
    reason: str


__all__ = ["ExperimentRamped", "ExperimentStarted", "ExperimentStopped", "ExperimentVariant"]
