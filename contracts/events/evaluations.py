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
    summary: str = Field(default="", description="The comparison in plain words.")


class EvaluationFailed(Event):
    """An offline evaluation could not run or finish (a missing dataset, a crash)."""

    type: Literal["evaluation.failed"] = "evaluation.failed"
    evaluation_id: str
    error: str = Field(description="What went wrong and what to do next.")


class EvaluationProgressed(Event):
    type: Literal["evaluation.progressed"] = "evaluation.progressed"
    evaluation_id: str
    done: int = Field(ge=0, description="Answers received (or failed) so far.")
    total: int = Field(ge=0)


class ArmStatistics(BaseModel):
    """Sufficient statistics of one experiment arm for its primary metric."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variant: str
    serving_name: str
    n: int = Field(ge=0)
    total: float = Field(description="Sum of the metric over the arm's units.")
    total_squares: float = Field(ge=0, description="Sum of the squared metric.")
    requests: int = Field(default=0, ge=0, description="Requests served by the arm.")
    error_rate: float = Field(default=0, ge=0, le=1)
    fallback_rate: float = Field(default=0, ge=0, le=1)
    p99_latency_ms: float | None = Field(default=None, ge=0)


class TreatmentResult(BaseModel):
    """A treatment against control on the primary metric."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variant: str
    difference: float = Field(description="Treatment minus control.")
    ci_low: float
    ci_high: float
    p_value: float = Field(ge=0, le=1)
    adjusted_p_value: float = Field(ge=0, le=1, description="Holm-adjusted over treatments.")
    method: str


Verdict = Literal[
    "treatment_wins",
    "control_wins",
    "no_difference",
    "stopped_by_guardrail",
    "sample_ratio_mismatch",
]


class ExperimentUpdated(Event):
    type: Literal["experiment.updated"] = "experiment.updated"
    experiment_id: str
    arms: list[ArmStatistics]
    p_value: float | None = Field(default=None, ge=0, le=1)
    results: list[TreatmentResult] = Field(default_factory=list)
    srm_p_value: float | None = Field(default=None, ge=0, le=1)
    summary: str = ""


class ExperimentConcluded(Event):
    type: Literal["experiment.concluded"] = "experiment.concluded"
    experiment_id: str
    verdict: Verdict
    winner: str | None = None
    summary: str = Field(description="The verdict in plain words.")
    p_value: float | None = Field(default=None, ge=0, le=1)
    action: Literal["promote", "route_to_control", "none"] = Field(
        default="none",
        description="`promote`: the winner is deployed to the alias; `route_to_control`: "
        "the router sends all traffic to `route_to`; `none`: a person decides.",
    )
    route_to: str | None = Field(default=None, description="Serving name that gets all traffic.")
    reasons: list[str] = Field(default_factory=list)
    arms: list[ArmStatistics] = Field(default_factory=list)
    results: list[TreatmentResult] = Field(default_factory=list)
    recommendation: str | None = Field(
        default=None, description="Weighted quality/latency/cost pick, beside the statistics."
    )


__all__ = [
    "ArmStatistics",
    "EvaluationCompleted",
    "EvaluationFailed",
    "EvaluationProgressed",
    "ExperimentConcluded",
    "ExperimentUpdated",
    "TreatmentResult",
    "Verdict",
]
