"""Every event tuneloop publishes, one module per concern (each concern is one stream)."""

from contracts.events.cost import BudgetExceeded, BudgetThresholdReached, CostRecorded
from contracts.events.datasets import DatasetExported, DatasetExportFailed, SplitArtifact
from contracts.events.evaluations import (
    EvaluationCompleted,
    EvaluationProgressed,
    ExperimentConcluded,
    ExperimentUpdated,
)
from contracts.events.experiments import ExperimentRamped, ExperimentStarted, ExperimentStopped
from contracts.events.inference import FeedbackRecorded, InferenceCompleted, InteractionCaptured
from contracts.events.jobs import (
    JobCancelled,
    JobCheckpointed,
    JobCompleted,
    JobCreated,
    JobEstimated,
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
    DatasetExportFailed,
    JobCreated,
    JobQueued,
    JobEstimated,
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
    InteractionCaptured,
    FeedbackRecorded,
    EvaluationProgressed,
    EvaluationCompleted,
    ExperimentStarted,
    ExperimentRamped,
    ExperimentStopped,
    ExperimentUpdated,
    ExperimentConcluded,
    CostRecorded,
    BudgetThresholdReached,
    BudgetExceeded,
)

__all__ = [
    "ALL_EVENTS",
    "BudgetExceeded",
    "BudgetThresholdReached",
    "CostRecorded",
    "DatasetExportFailed",
    "DatasetExported",
    "EvaluationCompleted",
    "EvaluationProgressed",
    "ExperimentConcluded",
    "ExperimentRamped",
    "ExperimentStarted",
    "ExperimentStopped",
    "ExperimentUpdated",
    "FeedbackRecorded",
    "InferenceCompleted",
    "InteractionCaptured",
    "JobCancelled",
    "JobCheckpointed",
    "JobCompleted",
    "JobCreated",
    "JobEstimated",
    "JobFailed",
    "JobProgressed",
    "JobQueued",
    "JobStarted",
    "ModelArchived",
    "ModelDeployed",
    "ModelRegistered",
    "ModelRolledBack",
    "SplitArtifact",
]
