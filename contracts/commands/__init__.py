"""Commands: imperative requests, each owned by exactly one service's work queue."""

from contracts.commands.jobs import CancelJob, CreateJob
from contracts.commands.models import ArchiveModel, DeployModel, RegisterModel, RollBackModel

ALL_COMMANDS = (CreateJob, CancelJob, RegisterModel, DeployModel, RollBackModel, ArchiveModel)

__all__ = [
    "ALL_COMMANDS",
    "ArchiveModel",
    "CancelJob",
    "CreateJob",
    "DeployModel",
    "RegisterModel",
    "RollBackModel",
]
