"""HTTP bodies of the retrainer: retraining policies per model and the runs they start.

A policy says when to retrain a model (every N new gold-star examples, on a schedule, or
both), what to export and train, how to evaluate the candidate offline against the version
the alias serves, and the A/B test to start when the candidate is not worse.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.api.evaluations import ScoreName
from contracts.events.experiments import Guardrails, PrimaryMetric, StoppingPolicy
from contracts.fields import MODEL_NAME_PATTERN, Metrics, Sha256
from contracts.retraining import ACTIVE_RUN_STATUSES, RunStatus, TriggerKind
from contracts.selection import ExportFilters
from contracts.training import Backend, Hyperparameters

DATASET_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetrainingTrigger(Body):
    """When a run starts by itself; at least one of the two must be set."""

    gold_stars: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000,
        description="Start a run once this many new gold-star examples matching the export "
        "filters were stored since the last run (or since the policy was created).",
    )
    schedule_seconds: int | None = Field(
        default=None,
        ge=1,
        description="Start a run this long after the last one (86400: daily), provided at "
        "least one new gold-star example arrived meanwhile.",
    )

    @model_validator(mode="after")
    def _something_triggers(self) -> "RetrainingTrigger":
        if self.gold_stars is None and self.schedule_seconds is None:
            raise ValueError("give `gold_stars`, `schedule_seconds` or both")
        return self


def _gold_stars() -> ExportFilters:
    return ExportFilters(gold_star_only=True)


class RetrainingExport(Body):
    """Which stored examples each run's dataset version is made of."""

    dataset: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=DATASET_NAME_PATTERN,
        description="Dataset the runs' versions belong to; default `<model>-retraining`.",
    )
    filters: ExportFilters = Field(
        default_factory=_gold_stars,
        description="Export filters; also what new gold stars are counted against.",
    )
    test_fraction: float = Field(
        default=0.1,
        gt=0.0,
        lt=1.0,
        description="Share held out as the test split the offline evaluation uses.",
    )
    min_examples: int | None = Field(default=None, ge=1)


class RetrainingTraining(Body):
    """How each run fine-tunes the candidate."""

    base_model: str | None = Field(
        default=None,
        min_length=1,
        description="Base model to train on; default the serving version's base model.",
    )
    backend: Backend = "auto"
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    suffix: str | None = Field(default="retrained", max_length=64)


class RetrainingEvaluation(Body):
    """The offline comparison of the candidate with the version the alias serves."""

    dataset_sha256: Sha256 | None = Field(
        default=None,
        description="An OpenAI chat JSONL file in the artifact store; default the test "
        "split each run's export holds out.",
    )
    split: str | None = Field(default="test", description="Rows of this split (see evaluations).")
    metric: ScoreName = Field(default="normalized_match", description="What is compared.")
    margin: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Not worse means candidate >= serving - margin on the metric.",
    )
    max_tokens: int = Field(default=256, ge=1, le=8192)


class RetrainingExperiment(Body):
    """The A/B test started when the candidate is not worse."""

    treatment_weight: float = Field(
        default=0.5, gt=0.0, lt=1.0, description="Share of traffic the candidate gets."
    )
    primary_metric: PrimaryMetric = "gold_star_rate"
    minimum_detectable_effect: float = Field(default=0.05, gt=0)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    stopping: StoppingPolicy = Field(
        default_factory=StoppingPolicy,
        description="`alias` is also the version the candidate is compared with (default "
        "`production`); `auto_promote` promotes a winner.",
    )


class RetrainingPolicyCreate(Body):
    """Retrain ``model_name`` by itself; one policy per model and tenant."""

    model_name: str = Field(pattern=MODEL_NAME_PATTERN)
    enabled: bool = True
    trigger: RetrainingTrigger
    export: RetrainingExport = Field(default_factory=RetrainingExport)
    training: RetrainingTraining = Field(default_factory=RetrainingTraining)
    evaluation: RetrainingEvaluation = Field(default_factory=RetrainingEvaluation)
    experiment: RetrainingExperiment = Field(default_factory=RetrainingExperiment)


class RetrainingPolicyUpdate(Body):
    """Replace any of a policy's sections; the others stay as they are."""

    enabled: bool | None = None
    trigger: RetrainingTrigger | None = None
    export: RetrainingExport | None = None
    training: RetrainingTraining | None = None
    evaluation: RetrainingEvaluation | None = None
    experiment: RetrainingExperiment | None = None


class RetrainingPolicyPublic(Body):
    model_name: str
    enabled: bool
    trigger: RetrainingTrigger
    export: RetrainingExport
    training: RetrainingTraining
    evaluation: RetrainingEvaluation
    experiment: RetrainingExperiment
    dataset: str = Field(description="Dataset name the runs export to.")
    gold_stars: int | None = Field(
        default=None, description="Gold-star examples matching the filters, last counted."
    )
    new_gold_stars: int | None = Field(
        default=None, description="Of those, stored since the last run (or the policy)."
    )
    counted_at: datetime | None = None
    next_scheduled_at: datetime | None = Field(
        default=None, description="When the schedule is next due (if it has one)."
    )
    waiting_for: str | None = Field(
        default=None, description="Why no run starts now, in words, when something blocks it."
    )
    active_run_id: str | None = None
    last_run_id: str | None = None
    runs: int = Field(default=0, ge=0, description="Runs started so far.")
    created_at: datetime
    updated_at: datetime


class RunStep(Body):
    """One change of a run, in words."""

    status: RunStatus
    at: datetime
    summary: str


class RunError(Body):
    code: str
    message: str


class RetrainingRunPublic(Body):
    id: str
    model_name: str
    status: RunStatus
    trigger: TriggerKind
    reason: str = Field(description="Why the run started, in words.")
    summary: str = Field(description="Where it stands or how it ended, in words.")
    decision: str | None = Field(
        default=None, description="The offline comparison and what was decided, in words."
    )
    gold_stars: int | None = Field(default=None, description="Gold stars counted at the start.")
    base_model: str | None = None
    dataset: str | None = None
    dataset_version: int | None = None
    train_rows: int | None = None
    test_rows: int | None = None
    job_id: str | None = None
    training_metrics: Metrics = Field(default_factory=dict)
    candidate_version: int | None = None
    candidate_serving_name: str | None = None
    serving_version: int | None = None
    serving_name: str | None = Field(
        default=None, description="What the alias served when the candidate was compared."
    )
    evaluation_id: str | None = None
    candidate_score: float | None = None
    serving_score: float | None = None
    metric: str | None = None
    experiment_id: str | None = None
    verdict: str | None = None
    error: RunError | None = None
    history: list[RunStep] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None


class RetrainingRunList(Body):
    data: list[RetrainingRunPublic]


__all__ = [
    "ACTIVE_RUN_STATUSES",
    "RetrainingEvaluation",
    "RetrainingExperiment",
    "RetrainingExport",
    "RetrainingPolicyCreate",
    "RetrainingPolicyPublic",
    "RetrainingPolicyUpdate",
    "RetrainingRunList",
    "RetrainingRunPublic",
    "RetrainingTraining",
    "RetrainingTrigger",
    "RunError",
    "RunStatus",
    "RunStep",
    "TriggerKind",
]
