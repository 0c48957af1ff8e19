"""The events that tell a run's story: triggered, each change, and how it ended."""

from contracts.events import RetrainingCompleted, RetrainingTriggered, RetrainingUpdated
from contracts.retraining import FinalStatus, RunStatus
from services.retrainer.tables import RetrainingRun


def triggered_event(run: RetrainingRun) -> RetrainingTriggered:
    return RetrainingTriggered(
        tenant=run.tenant,
        run_id=run.id,
        model_name=run.model_name,
        trigger=run.trigger,
        reason=run.reason,
        gold_stars=run.gold_stars,
        dataset=run.dataset,
        base_model=run.base_model,
        serving_name=run.serving_name or "",
    )


def updated_event(run: RetrainingRun, before: RunStatus, summary: str) -> RetrainingUpdated:
    return RetrainingUpdated(
        tenant=run.tenant,
        run_id=run.id,
        model_name=run.model_name,
        status=run.status,
        previous_status=before,
        summary=summary,
        job_id=run.job_id if run.status != "exporting" else None,
        candidate_serving_name=run.candidate_serving_name,
        evaluation_id=run.evaluation_id if run.evaluation_requested else None,
        experiment_id=run.experiment_id if run.status == "experimenting" else None,
    )


def completed_event(run: RetrainingRun, status: FinalStatus, summary: str) -> RetrainingCompleted:
    return RetrainingCompleted(
        tenant=run.tenant,
        run_id=run.id,
        model_name=run.model_name,
        status=status,
        summary=summary,
        decision=run.decision,
        error_code=run.error_code,
        candidate_serving_name=run.candidate_serving_name,
        serving_name=run.serving_name,
        metric=run.metric,
        candidate_score=run.candidate_score,
        serving_score=run.serving_score,
        experiment_id=run.experiment_id if run.verdict is not None else None,
        verdict=run.verdict,
        training_metrics=dict(run.training_metrics),
    )


__all__ = ["completed_event", "triggered_event", "updated_event"]
