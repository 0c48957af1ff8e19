"""Commands: imperative requests, each owned by exactly one service's work queue."""

from contracts.commands.datasets import ExportDataset
from contracts.commands.evaluations import StartEvaluation
from contracts.commands.experiments import StartExperiment
from contracts.commands.jobs import CancelJob, CreateJob
from contracts.commands.models import ArchiveModel, DeployModel, RegisterModel, RollBackModel

ALL_COMMANDS = (
    ExportDataset,
    CreateJob,
    CancelJob,
    RegisterModel,
    DeployModel,
    RollBackModel,
    ArchiveModel,
    StartEvaluation,
    StartExperiment,
)

__all__ = [
    "ALL_COMMANDS",
    "ArchiveModel",
    "CancelJob",
    "CreateJob",
    "DeployModel",
    "ExportDataset",
    "RegisterModel",
    "RollBackModel",
    "StartEvaluation",
    "StartExperiment",
]
