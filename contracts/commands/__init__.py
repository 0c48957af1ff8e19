"""Commands: imperative requests, each owned by exactly one service's work queue."""

from contracts.commands.datasets import ExportDataset
from contracts.commands.jobs import CancelJob, CreateJob
from contracts.commands.models import DeployModel, RollBackModel

ALL_COMMANDS = (ExportDataset, CreateJob, CancelJob, DeployModel, RollBackModel)

__all__ = [
    "ALL_COMMANDS",
    "CancelJob",
    "CreateJob",
    "DeployModel",
    "ExportDataset",
    "RollBackModel",
]
