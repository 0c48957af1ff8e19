"""The states of a retraining run and what starts one, shared by the API and the events."""

from typing import Literal

RunStatus = Literal[
    "triggered",
    "exporting",
    "training",
    "evaluating",
    "experimenting",
    "completed",
    "skipped",
    "failed",
    "cancelled",
]
"""Where a run is: ``triggered → exporting → training → evaluating → experimenting →
completed``, or it ends early as ``skipped`` (the candidate was worse), ``failed`` (with the
reason) or ``cancelled``."""

FinalStatus = Literal["completed", "skipped", "failed", "cancelled"]

ACTIVE_RUN_STATUSES: tuple[RunStatus, ...] = (
    "triggered",
    "exporting",
    "training",
    "evaluating",
    "experimenting",
)
FINAL_RUN_STATUSES: tuple[FinalStatus, ...] = ("completed", "skipped", "failed", "cancelled")

TriggerKind = Literal["gold_stars", "schedule", "manual"]
"""``gold_stars``: enough new gold stars; ``schedule``: the interval passed; ``manual``: asked."""

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "FINAL_RUN_STATUSES",
    "FinalStatus",
    "RunStatus",
    "TriggerKind",
]
