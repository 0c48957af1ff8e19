"""Rows as the API shows them."""

from contracts.api.retraining import (
    RetrainingPolicyPublic,
    RetrainingRunPublic,
    RunError,
    RunStep,
)
from services.retrainer.clock import aware, aware_or_none
from services.retrainer.spec import PolicySpec
from services.retrainer.tables import RetrainingPolicy, RetrainingRun
from services.retrainer.triggers import Counts, next_scheduled


def policy_view(policy: RetrainingPolicy) -> RetrainingPolicyPublic:
    spec = PolicySpec.model_validate(policy.spec)
    counts = Counts(policy.gold_stars_baseline, policy.gold_stars_counted)
    return RetrainingPolicyPublic(
        model_name=policy.model_name,
        enabled=policy.enabled,
        trigger=spec.trigger,
        export=spec.export,
        training=spec.training,
        evaluation=spec.evaluation,
        experiment=spec.experiment,
        dataset=spec.dataset(policy.model_name),
        gold_stars=policy.gold_stars_counted,
        new_gold_stars=counts.new,
        counted_at=aware_or_none(policy.counted_at),
        next_scheduled_at=next_scheduled(spec.trigger, aware(policy.schedule_anchor_at)),
        waiting_for=policy.waiting_for,
        active_run_id=policy.active_run_id,
        last_run_id=policy.last_run_id,
        runs=policy.runs,
        created_at=aware(policy.created_at),
        updated_at=aware(policy.updated_at),
    )


def run_view(run: RetrainingRun) -> RetrainingRunPublic:
    error = (
        RunError(code=run.error_code, message=run.error_message or run.summary)
        if run.error_code is not None
        else None
    )
    reached = {step["status"] for step in run.history}
    return RetrainingRunPublic(
        id=run.id,
        model_name=run.model_name,
        status=run.status,
        trigger=run.trigger,
        reason=run.reason,
        summary=run.summary,
        decision=run.decision,
        gold_stars=run.gold_stars,
        base_model=run.base_model,
        dataset=run.dataset,
        dataset_version=run.dataset_version,
        train_rows=run.train_rows,
        test_rows=run.test_rows,
        job_id=run.job_id if "training" in reached else None,
        training_metrics=dict(run.training_metrics),
        candidate_version=run.candidate_version,
        candidate_serving_name=run.candidate_serving_name,
        serving_version=run.serving_version,
        serving_name=run.serving_name,
        evaluation_id=run.evaluation_id if run.evaluation_requested else None,
        candidate_score=run.candidate_score,
        serving_score=run.serving_score,
        metric=run.metric,
        experiment_id=run.experiment_id if "experimenting" in reached else None,
        verdict=run.verdict,
        error=error,
        history=[RunStep.model_validate(step) for step in run.history],
        created_at=aware(run.created_at),
        updated_at=aware(run.updated_at),
        finished_at=aware_or_none(run.finished_at),
    )


__all__ = ["policy_view", "run_view"]
