"""Events of the retrainer: retraining policies and the runs they start.

A run goes ``triggered → exporting → training → evaluating → experimenting → completed``, or
ends as ``skipped`` (the candidate was worse than the serving version offline), ``failed`` or
``cancelled``. Every change is a ``retraining.updated``; the end is a ``retraining.completed``
with the decision in words.
"""

from typing import Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.fields import Metrics
from contracts.retraining import FinalStatus, RunStatus, TriggerKind


class RetrainingEvent(Event):
    run_id: str = Field(min_length=1, max_length=64)
    model_name: str = Field(min_length=1, max_length=64)


class RetrainingTriggered(RetrainingEvent):
    """A policy started a run (its trigger fired, or a person asked for one)."""

    type: Literal["retraining.triggered"] = "retraining.triggered"
    trigger: TriggerKind
    reason: str = Field(description="Why, in words (e.g. `12 new gold stars (every 10)`).")
    gold_stars: int | None = Field(default=None, ge=0, description="Gold stars counted now.")
    dataset: str
    base_model: str
    serving_name: str = Field(description="What the alias serves now; the candidate's rival.")


class RetrainingUpdated(RetrainingEvent):
    """The run moved on (or learnt something on the way), told in words."""

    type: Literal["retraining.updated"] = "retraining.updated"
    status: RunStatus
    previous_status: RunStatus
    summary: str
    job_id: str | None = None
    candidate_serving_name: str | None = None
    evaluation_id: str | None = None
    experiment_id: str | None = None


class RetrainingCompleted(RetrainingEvent):
    """The run ended: what was decided and why, in words."""

    type: Literal["retraining.completed"] = "retraining.completed"
    status: FinalStatus
    summary: str = Field(description="The decision in plain words, with the numbers.")
    decision: str | None = Field(default=None, description="The offline comparison, in words.")
    error_code: str | None = None
    candidate_serving_name: str | None = None
    serving_name: str | None = None
    metric: str | None = None
    candidate_score: float | None = None
    serving_score: float | None = None
    experiment_id: str | None = None
    verdict: str | None = Field(default=None, description="The A/B test's verdict, if any.")
    training_metrics: Metrics = Field(default_factory=dict)


class RetrainingPolicyChanged(Event):
    """A policy was created, changed, switched on or off, or deleted."""

    type: Literal["retraining.policy_changed"] = "retraining.policy_changed"
    model_name: str = Field(min_length=1, max_length=64)
    change: Literal["created", "updated", "enabled", "disabled", "deleted"]
    enabled: bool
    summary: str = Field(description="The policy's trigger in words.")


__all__ = [
    "RetrainingCompleted",
    "RetrainingEvent",
    "RetrainingPolicyChanged",
    "RetrainingTriggered",
    "RetrainingUpdated",
]
