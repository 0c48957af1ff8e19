"""The run's state machine: what each event does to a run, decided without any I/O.

``triggered → exporting → training → evaluating → experimenting → completed``; a run ends
early as ``skipped`` (the candidate was worse offline), ``failed`` (with a code and the
reason) or ``cancelled``. Each function takes the run (its row) and one fact, changes the
run's fields, and returns the :class:`Change` to record, or ``None`` when the fact is not
for this run at this point (a redelivery, or an event about another run): applying the same
fact twice changes nothing the second time.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.envelope import Command
from contracts.events import (
    DatasetExported,
    DatasetExportFailed,
    EvaluationCompleted,
    EvaluationFailed,
    ExperimentConcluded,
    ExperimentStarted,
    ExperimentStartFailed,
    ExperimentStopped,
    JobCancelled,
    JobCompleted,
    JobFailed,
    ModelRegistered,
)
from contracts.retraining import ACTIVE_RUN_STATUSES, FINAL_RUN_STATUSES, RunStatus
from services.retrainer import downstream
from services.retrainer.clock import aware
from services.retrainer.comparison import compare
from services.retrainer.tables import RetrainingRun, ServedVersion
from services.retrainer.triggers import duration_words

ALLOWED: dict[str, set[str]] = {
    "triggered": {"exporting", "failed", "cancelled"},
    "exporting": {"exporting", "training", "failed", "cancelled"},
    "training": {"training", "evaluating", "failed", "cancelled"},
    "evaluating": {"evaluating", "experimenting", "skipped", "failed", "cancelled"},
    "experimenting": {"experimenting", "completed", "failed", "cancelled"},
}
"""Where each status may go (itself: a step within it, told in words)."""


class IllegalTransition(Exception):
    pass


@dataclass
class Change:
    """What one fact does to a run: its status afterwards, in words, and what to send."""

    status: RunStatus
    summary: str
    send: list[Command] = field(default_factory=list)
    error_code: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_RUN_STATUSES


def is_active(run: RetrainingRun) -> bool:
    return run.status in ACTIVE_RUN_STATUSES


def check_allowed(before: str, after: str) -> None:
    if after not in ALLOWED.get(before, set()):
        raise IllegalTransition(f"a run cannot go from {before!r} to {after!r}")


def failed(run: RetrainingRun, code: str, message: str) -> Change:
    run.error_code, run.error_message = code, message
    return Change("failed", message, error_code=code)


# --- exporting ---------------------------------------------------------------------------


def dataset_exported(run: RetrainingRun, event: DatasetExported) -> Change | None:
    if run.status != "exporting" or event.dataset_id != run.export_id:
        return None
    run.dataset, run.dataset_version = event.dataset, event.version
    run.train_rows, run.test_rows = event.train_rows, event.test_rows
    test = event.splits.get("test")
    run.test_split_sha256 = test.sha256 if test is not None and test.rows > 0 else None
    rows = f"{event.train_rows} train + {event.test_rows} test rows"
    if downstream.evaluation_dataset(run) is None:
        return failed(
            run,
            "no_test_split",
            f"the export {event.dataset} v{event.version} ({rows}) holds out no test rows to "
            "evaluate the candidate on; raise export.test_fraction, gather more gold stars, "
            "or set evaluation.dataset_sha256",
        )
    return Change(
        "training",
        f"exported {event.dataset} v{event.version} ({rows}); training {run.job_id} on "
        f"{run.base_model}",
        send=[downstream.training_command(run, event.artifact_sha256)],
    )


def export_failed(run: RetrainingRun, event: DatasetExportFailed) -> Change | None:
    if run.status != "exporting" or event.command_id != run.export_id:
        return None
    return failed(run, "export_failed", f"the export failed: {event.message}")


# --- training ----------------------------------------------------------------------------


def job_completed(run: RetrainingRun, event: JobCompleted) -> Change | None:
    """Training metrics, whenever they arrive (the registration may be told first)."""
    if not is_active(run) or event.job_id != run.job_id or run.training_metrics:
        return None
    run.training_metrics = {**event.metrics, "trained_tokens": float(event.trained_tokens)}
    loss = event.metrics.get("train_loss")
    loss_words = f", final training loss {loss:.4f}" if loss is not None else ""
    waiting = "; waiting for the registry to register the version"
    return Change(
        run.status,  # type: ignore[arg-type]
        f"training finished in {event.wall_seconds:.0f}s{loss_words}"
        + (waiting if run.status == "training" else ""),
    )


def job_ended(run: RetrainingRun, event: JobFailed | JobCancelled) -> Change | None:
    if run.status != "training" or event.job_id != run.job_id:
        return None
    if isinstance(event, JobFailed):
        return failed(
            run, "training_failed", f"training job {run.job_id} failed: {event.error.message}"
        )
    return failed(run, "training_cancelled", f"training job {run.job_id} was cancelled")


def model_registered(run: RetrainingRun, event: ModelRegistered) -> Change | None:
    if run.status != "training" or event.job_id != run.job_id:
        return None
    run.candidate_version, run.candidate_serving_name = event.version, event.serving_name
    return Change(
        "evaluating",
        f"registered as {event.serving_name}; it will be compared offline with what "
        f"{run.model_name}:{run.serving_alias} serves",
    )


# --- evaluating --------------------------------------------------------------------------


def evaluation_due(run: RetrainingRun, served: ServedVersion | None) -> Change | None:
    """Ask the evaluator once the alias' version is known; compare with what it serves now."""
    if run.status != "evaluating" or run.evaluation_requested:
        return None
    if served is None:
        return failed(
            run,
            "nothing_served",
            f"{run.model_name}:{run.serving_alias} serves nothing any more; there is no "
            "version to compare the candidate with",
        )
    if served.serving_name == run.candidate_serving_name:
        return Change(
            "skipped",
            f"skipped: {run.model_name}:{run.serving_alias} already serves "
            f"{run.candidate_serving_name}; there is nothing to compare it with",
        )
    run.serving_version, run.serving_name = served.version, served.serving_name
    run.evaluation_requested = True
    metric = downstream.plan_of(run).evaluation.metric
    run.metric = metric
    source = (
        f"the {run.test_rows} held-out test rows of {run.dataset} v{run.dataset_version}"
        if downstream.plan_of(run).evaluation.dataset_sha256 is None
        else "the policy's evaluation dataset"
    )
    return Change(
        "evaluating",
        f"evaluating {run.candidate_serving_name} against {served.serving_name} on {source} "
        f"({metric}), evaluation {run.evaluation_id}",
        send=[downstream.evaluation_command(run)],
    )


def evaluation_completed(run: RetrainingRun, event: EvaluationCompleted) -> Change | None:
    if run.status != "evaluating" or event.evaluation_id != run.evaluation_id:
        return None
    assert run.serving_name is not None
    assert run.candidate_serving_name is not None
    evaluation = downstream.plan_of(run).evaluation
    outcome = compare(
        event.metrics.get(run.candidate_serving_name, {}),
        event.metrics.get(run.serving_name, {}),
        evaluation.metric,
        evaluation.margin,
        run.candidate_serving_name,
        run.serving_name,
    )
    run.metric = evaluation.metric
    run.candidate_score, run.serving_score = outcome.candidate, outcome.serving
    run.decision = outcome.words
    if outcome.problem is not None:
        return failed(run, "evaluation_unusable", outcome.words)
    if not outcome.not_worse:
        return Change("skipped", f"skipped: {outcome.words}; the serving version stays")
    return Change(
        "experimenting",
        f"{outcome.words}: starting A/B test {run.experiment_id}",
        send=[downstream.experiment_command(run)],
    )


def evaluation_failed(run: RetrainingRun, event: EvaluationFailed) -> Change | None:
    if run.status != "evaluating" or event.evaluation_id != run.evaluation_id:
        return None
    return failed(run, "evaluation_failed", f"the offline evaluation failed: {event.error}")


# --- experimenting -----------------------------------------------------------------------


def experiment_started(run: RetrainingRun, event: ExperimentStarted) -> Change | None:
    if run.status != "experimenting" or event.experiment_id != run.experiment_id:
        return None
    if run.experiment_running:
        return None
    run.experiment_running = True
    shares = ", ".join(f"{arm.variant} {arm.serving_name} {arm.weight:.0%}" for arm in event.arms)
    return Change(
        "experimenting",
        f"A/B test {event.experiment_id} is live ({shares}, {event.primary_metric}); the "
        "evaluator will decide",
    )


def experiment_refused(run: RetrainingRun, event: ExperimentStartFailed) -> Change | None:
    if run.status != "experimenting" or event.experiment_id != run.experiment_id:
        return None
    message = f"the router did not start the A/B test: {event.message}"
    return failed(run, "experiment_refused", message)


def experiment_concluded(run: RetrainingRun, event: ExperimentConcluded) -> Change | None:
    if run.status != "experimenting" or event.experiment_id != run.experiment_id:
        return None
    run.verdict = event.verdict
    promoted = event.action == "promote" and event.winner == downstream.CANDIDATE_VARIANT
    outcome = (
        f"{run.candidate_serving_name} is promoted to {run.model_name}:{run.serving_alias}"
        if promoted
        else f"{run.model_name}:{run.serving_alias} keeps serving {run.serving_name}"
    )
    return Change("completed", f"A/B test verdict {event.verdict}: {event.summary} ({outcome})")


def experiment_stopped(run: RetrainingRun, event: ExperimentStopped) -> Change | None:
    """A test stopped by a person ends the run; one stopped by its verdict waits for it."""
    if run.status != "experimenting" or event.experiment_id != run.experiment_id:
        return None
    if event.reason.startswith("concluded"):
        return None  # experiment.concluded tells the verdict
    run.verdict = "stopped"
    return Change(
        "completed",
        f"the A/B test was stopped before a verdict ({event.reason}); "
        f"{run.model_name}:{run.serving_alias} keeps serving {run.serving_name}",
    )


# --- from outside: people and the clock ---------------------------------------------------


def cancel(run: RetrainingRun) -> Change | None:
    if not is_active(run):
        return None
    send: list[Command] = [downstream.cancel_command(run)] if run.status == "training" else []
    after_experiment = (
        f"; A/B test {run.experiment_id} goes on until stopped"
        if run.status == "experimenting"
        else ""
    )
    run.error_code = "cancelled"
    return Change("cancelled", f"cancelled by request{after_experiment}", send=send)


def timed_out(run: RetrainingRun, now: datetime, limits: dict[str, float]) -> Change | None:
    """A run stuck in one status longer than allowed fails (a running A/B test never does)."""
    if not is_active(run) or (run.status == "experimenting" and run.experiment_running):
        return None
    limit = limits.get(run.status)
    if limit is None or now - aware(run.stage_started_at) < timedelta(seconds=limit):
        return None
    waiting = {
        "triggered": "the export to start",
        "exporting": f"the exporter to export {run.dataset}",
        "training": f"training job {run.job_id} and its registration",
        "evaluating": f"evaluation {run.evaluation_id}",
        "experimenting": f"the router to start A/B test {run.experiment_id}",
    }[run.status]
    return failed(
        run,
        "timeout",
        f"gave up after waiting {duration_words(limit)} for {waiting}; see that service's log, "
        "then start a new run",
    )


__all__ = [
    "ALLOWED",
    "Change",
    "IllegalTransition",
    "cancel",
    "check_allowed",
    "dataset_exported",
    "evaluation_completed",
    "evaluation_due",
    "evaluation_failed",
    "experiment_concluded",
    "experiment_refused",
    "experiment_started",
    "experiment_stopped",
    "export_failed",
    "failed",
    "is_active",
    "job_completed",
    "job_ended",
    "model_registered",
    "timed_out",
]
