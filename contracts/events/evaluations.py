"""Events of the evaluator: offline evaluations and online experiments."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Event
from contracts.fields import Metrics


class EvaluationCompleted(Event):
    type: Literal["evaluation.completed"] = "evaluation.completed"
    evaluation_id: str
    serving_names: list[str] = Field(min_length=1)
    metrics: dict[str, Metrics] = Field(
        default_factory=dict, description="Metrics per serving name."
    )


class ArmStatistics(BaseModel):
    """Sufficient statistics of one experiment arm for its primary metric."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variant: str
    serving_name: str
    n: int = Field(ge=0)
    total: float = Field(description="Sum of the metric over the arm's units.")
    total_squares: float = Field(ge=0, description="Sum of the squared metric.")


class ExperimentUpdated(Event):
    type: Literal["experiment.updated"] = "experiment.updated"
    experiment_id: str
    arms: list[ArmStatistics]
    p_value: float | None = Field(default=None, ge=0, le=1)


class ExperimentConcluded(Event):
    type: Literal["experiment.concluded"] = "experiment.concluded"
    experiment_id: str
    verdict: Literal["treatment_wins", "control_wins", "no_difference", "stopped_by_guardrail"]
    winner: str | None = None
    summary: str = Field(description="The verdict in plain words.")
    p_value: float | None = Field(default=None, ge=0, le=1)
