"""Numbers and states of the API turned into what a person reads: progress, verdicts, intervals."""

import math
from dataclasses import dataclass
from typing import Any

from services.gateway.dashboard.charts import Interval, Series

ACTIVE_JOB_STATUSES = ("validating_files", "queued", "running")
JOB_STATUS_WORDS = {
    "validating_files": "checking the data",
    "queued": "waiting for a trainer",
    "running": "training",
    "succeeded": "finished",
    "failed": "failed",
    "cancelled": "cancelled",
}
VERDICT_WORDS = {
    "treatment_wins": "The new version is better: promote it.",
    "control_wins": "The current version is better: roll the new one back.",
    "no_difference": "No real difference was found: keep the current version unless the new "
    "one is cheaper or faster.",
    "stopped_by_guardrail": "The new version broke a safety limit (errors, fallbacks or "
    "latency): roll it back.",
    "sample_ratio_mismatch": "Traffic was not split as configured, so the numbers cannot be "
    "trusted: check the router, then start the test again.",
}
METRIC_WORDS = {
    "gold_star_rate": "share of answers marked gold star",
    "mean_rating": "average rating (1-5)",
    "task_success": "share of tasks solved",
}


@dataclass(frozen=True)
class Progress:
    step: int
    total_steps: int
    percent: int
    train_loss: float | None
    eta_seconds: float | None


def progress_of(events: list[dict[str, Any]]) -> Progress | None:
    """The latest ``job.progress`` of a job's events (oldest first)."""
    for event in reversed(events):
        data = event.get("data") or {}
        if data.get("type") == "job.progress":
            step, total = int(data.get("step") or 0), int(data.get("total_steps") or 0)
            percent = min(100, round(100 * step / total)) if total else 0
            return Progress(step, total, percent, data.get("train_loss"), data.get("eta_seconds"))
    return None


def loss_series(events: list[dict[str, Any]]) -> list[Series]:
    train, validation = [], []
    for event in events:
        data = event.get("data") or {}
        if data.get("type") != "job.progress":
            continue
        step = float(data.get("step") or 0)
        if isinstance(data.get("train_loss"), int | float):
            train.append((step, float(data["train_loss"])))
        if isinstance(data.get("validation_loss"), int | float):
            validation.append((step, float(data["validation_loss"])))
    series = [Series("training loss", train)] if train else []
    if validation:
        series.append(Series("validation loss", validation))
    return series


def arm_interval(arm: dict[str, Any], z: float = 1.96) -> Interval:
    """An arm's mean with a normal-approximation 95 % interval from its sufficient statistics."""
    n = int(arm.get("n") or 0)
    if n == 0:
        return Interval(str(arm["variant"]), 0.0, 0.0, 0.0)
    mean = float(arm["total"]) / n
    variance = max(0.0, float(arm["total_squares"]) / n - mean * mean)
    half = z * math.sqrt(variance / n) if n > 1 else 0.0
    return Interval(str(arm["variant"]), mean, mean - half, mean + half)


def difference_intervals(results: list[dict[str, Any]]) -> list[Interval]:
    return [
        Interval(str(r["variant"]), float(r["difference"]), float(r["ci_low"]), float(r["ci_high"]))
        for r in results
    ]


def verdict_words(view: dict[str, Any]) -> str:
    """The headline: the verdict when there is one, else where the test stands."""
    verdict = view.get("verdict")
    if verdict in VERDICT_WORDS:
        return VERDICT_WORDS[verdict]
    arms = view.get("arms") or []
    smallest = min((int(a.get("n") or 0) for a in arms), default=0)
    planned = view.get("planned_units_per_arm")
    if planned:
        return (
            f"Still collecting data: the smallest arm has {smallest} of about {planned} users "
            "needed. No decision yet; keep the test running."
        )
    return f"Still collecting data ({smallest} users in the smallest arm). No decision yet."


def tests_won(views: list[dict[str, Any]]) -> tuple[int, int]:
    """A/B tests the new version won, and tests that reached a verdict."""
    decided = [v for v in views if v.get("verdict") in VERDICT_WORDS]
    return sum(1 for v in decided if v["verdict"] == "treatment_wins"), len(decided)


__all__ = [
    "ACTIVE_JOB_STATUSES",
    "JOB_STATUS_WORDS",
    "METRIC_WORDS",
    "VERDICT_WORDS",
    "Progress",
    "arm_interval",
    "difference_intervals",
    "loss_series",
    "progress_of",
    "tests_won",
    "verdict_words",
]
