"""Folding events into an experiment's per-arm sums, idempotently, in one transaction each."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.events import ExperimentStarted, FeedbackRecorded, InferenceCompleted
from services.evaluator.arms import ArmState
from services.evaluator.latency import with_latency
from services.evaluator.metrics import counts_every_request, feedback_value
from services.evaluator.statistics import Summary
from services.evaluator.tables import ArmTotals, Experiment, ExperimentRequest


async def find_experiment(
    session: AsyncSession, tenant: str, experiment_id: str, lock: bool = False
) -> Experiment | None:
    query = select(Experiment).where(
        col(Experiment.tenant) == tenant, col(Experiment.experiment_id) == experiment_id
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def arms_of(session: AsyncSession, experiment: Experiment) -> dict[str, ArmTotals]:
    query = select(ArmTotals).where(col(ArmTotals.experiment_pk) == experiment.id)
    return {row.variant: row for row in (await session.execute(query)).scalars()}


def definition_of(experiment: Experiment) -> ExperimentStarted:
    return ExperimentStarted.model_validate(experiment.definition)


def arm_state(row: ArmTotals) -> ArmState:
    return ArmState(
        variant=row.variant,
        serving_name=row.serving_name,
        requests=row.requests,
        errors=row.errors,
        fallbacks=row.fallbacks,
        latency_total_ms=row.latency_total_ms,
        latency_histogram=tuple(row.latency_histogram),
        metric=Summary(row.metric_n, row.metric_total, row.metric_total_squares),
    )


async def create_experiment(session: AsyncSession, event: ExperimentStarted) -> Experiment | None:
    """Store a new experiment and its empty arms; None if it already exists."""
    if await find_experiment(session, event.tenant, event.experiment_id) is not None:
        return None
    experiment = Experiment(
        tenant=event.tenant,
        experiment_id=event.experiment_id,
        definition=event.model_dump(mode="json"),
    )
    session.add(experiment)
    await session.flush()
    assert experiment.id is not None
    for arm in event.arms:
        session.add(
            ArmTotals(
                experiment_pk=experiment.id, variant=arm.variant, serving_name=arm.serving_name
            )
        )
    return experiment


async def request_row(session: AsyncSession, tenant: str, request_id: str) -> ExperimentRequest:
    query = select(ExperimentRequest).where(
        col(ExperimentRequest.tenant) == tenant, col(ExperimentRequest.request_id) == request_id
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        row = ExperimentRequest(tenant=tenant, request_id=request_id)
        session.add(row)
    return row


def count_request(arm: ArmTotals, request: ExperimentRequest, metric: Any) -> None:
    """Add a served request to its arm (once), and its feedback if that came first."""
    latency_ms = request.latency_ms or 0.0
    arm.requests += 1
    arm.errors += request.failed
    arm.fallbacks += request.fallback
    arm.latency_total_ms += latency_ms
    arm.latency_histogram = with_latency(arm.latency_histogram, latency_ms)
    if counts_every_request(metric):
        arm.metric_n += 1
    request.counted = True
    if request.feedback_received and not request.feedback_applied:
        count_feedback(arm, request, metric)


def count_feedback(arm: ArmTotals, request: ExperimentRequest, metric: Any) -> None:
    """Add the request's first feedback to the arm's metric (once per request)."""
    value = feedback_value(metric, request.gold_star, request.rating)
    request.feedback_applied = True
    if value is None:
        return
    arm.metric_total += value
    arm.metric_total_squares += value * value
    if not counts_every_request(metric):
        arm.metric_n += 1


async def apply_inference(
    session: AsyncSession, event: InferenceCompleted
) -> tuple[Experiment, dict[str, ArmTotals]] | None:
    """Count a served request in its arm; the experiment touched, if any is running.

    A request of an experiment not announced yet is kept and counted when it is announced
    (events of different streams may arrive in any order)."""
    if event.experiment_id is None or event.variant is None:
        return None
    experiment = await find_experiment(session, event.tenant, event.experiment_id, lock=True)
    request = await request_row(session, event.tenant, event.request_id)
    request.experiment_id = event.experiment_id
    request.variant = event.variant
    request.served = True
    request.failed = event.status == "error"
    request.fallback = event.fallback
    request.latency_ms = event.latency_ms
    if experiment is None or experiment.status != "running":
        return None
    arms = await arms_of(session, experiment)
    arm = arms.get(event.variant)
    if arm is None:
        return None
    count_request(arm, request, definition_of(experiment).primary_metric)
    return experiment, arms


async def count_early_requests(
    session: AsyncSession, experiment: Experiment, arms: dict[str, ArmTotals]
) -> int:
    """Count requests served before the experiment was announced here; how many."""
    query = select(ExperimentRequest).where(
        col(ExperimentRequest.tenant) == experiment.tenant,
        col(ExperimentRequest.experiment_id) == experiment.experiment_id,
        col(ExperimentRequest.served),
        ~col(ExperimentRequest.counted),
    )
    metric = definition_of(experiment).primary_metric
    counted = 0
    for request in (await session.execute(query)).scalars():
        arm = arms.get(request.variant or "")
        if arm is not None:
            count_request(arm, request, metric)
            counted += 1
    return counted


async def apply_feedback(
    session: AsyncSession, event: FeedbackRecorded
) -> tuple[Experiment, dict[str, ArmTotals]] | None:
    """Count feedback in the arm of its request: from the event, or from the stored request.

    Feedback on a request not counted yet waits for it (it is counted with the request)."""
    experiment = None
    if event.experiment_id is not None:  # lock first, in the same order as inference
        experiment = await find_experiment(session, event.tenant, event.experiment_id, lock=True)
    request = await request_row(session, event.tenant, event.request_id)
    if request.feedback_received:
        return None
    request.feedback_received = True
    request.gold_star, request.rating = event.gold_star, event.rating
    request.experiment_id = request.experiment_id or event.experiment_id
    request.variant = request.variant or event.variant
    if experiment is None and request.experiment_id is not None:
        experiment = await find_experiment(session, event.tenant, request.experiment_id, lock=True)
    if experiment is None or experiment.status != "running" or not request.counted:
        return None
    arms = await arms_of(session, experiment)
    arm = arms.get(request.variant or "")
    if arm is None:
        return None
    count_feedback(arm, request, definition_of(experiment).primary_metric)
    return experiment, arms


def snapshot_due(experiment: Experiment, now: datetime, interval_seconds: float) -> bool:
    last = experiment.last_snapshot_at
    if last is None:
        return True
    if last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    return (now - last).total_seconds() >= interval_seconds


__all__ = [
    "apply_feedback",
    "apply_inference",
    "arm_state",
    "arms_of",
    "count_early_requests",
    "create_experiment",
    "definition_of",
    "find_experiment",
    "snapshot_due",
]
