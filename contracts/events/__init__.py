"""Every event tuneloop publishes, one module per concern (each concern is one stream)."""

from contracts.events.cost import BudgetExceeded, CostRecorded
from contracts.events.datasets import DatasetExported
from contracts.events.evaluations import (
    EvaluationCompleted,
    ExperimentConcluded,
    ExperimentUpdated,
)
from contracts.events.inference import FeedbackRecorded, InferenceCompleted
from contracts.events.jobs import (
    JobCancelled,
    JobCheckpointed,
    JobCompleted,
    JobCreated,
    JobFailed,
    JobProgressed,
    JobQueued,
    JobStarted,
)
from contracts.events.models import (
    ModelArchived,
    ModelDeployed,
    ModelRegistered,
    ModelRolledBack,
)

ALL_EVENTS = (
    DatasetExported,
    JobCreated,
    JobQueued,
    JobStarted,
    JobProgressed,
    JobCheckpointed,
    JobCompleted,
    JobFailed,
    JobCancelled,
    ModelRegistered,
    ModelDeployed,
    ModelRolledBack,
    ModelArchived,
    InferenceCompleted,
    FeedbackRecorded,
    EvaluationCompleted,
    ExperimentUpdated,
    ExperimentConcluded,
    CostRecorded,
    BudgetExceeded,
)

__all__ = [
    "ALL_EVENTS",
    "BudgetExceeded",
    "CostRecorded",
    "DatasetExported",
    "EvaluationCompleted",
    "ExperimentConcluded",
    "ExperimentUpdated",
    "FeedbackRecorded",
    "InferenceCompleted",
    "JobCancelled",
    "JobCheckpointed",
    "JobCompleted",
    "JobCreated",
    "JobFailed",
    "JobProgressed",
    "JobQueued",
    "JobStarted",
    "ModelArchived",
    "ModelDeployed",
    "ModelRegistered",
    "ModelRolledBack",
]
