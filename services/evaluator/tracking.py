"""Folding events into an experiment's per-arm sums, idempotently.

A batch of events is folded with a handful of queries: the requests, the experiments (locked,
in one order) and their arms are loaded once, changed in memory, and written at commit.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
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


def snapshot_due(experiment: Experiment, now: datetime, interval_seconds: float) -> bool:
    last = experiment.last_snapshot_at
    if last is None:
        return True
    if last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    return (now - last).total_seconds() >= interval_seconds


TrafficKey = tuple[str, str]
"""(tenant, request id) or (tenant, experiment id)."""


@dataclass
class Loaded:
    """The rows a batch of events touches, loaded once; new request rows are added to it."""

    session: AsyncSession
    requests: dict[TrafficKey, ExperimentRequest] = field(default_factory=dict)
    experiments: dict[TrafficKey, Experiment] = field(default_factory=dict)
    arms: dict[int, dict[str, ArmTotals]] = field(default_factory=dict)

    def request(self, tenant: str, request_id: str) -> ExperimentRequest:
        row = self.requests.get((tenant, request_id))
        if row is None:
            row = ExperimentRequest(tenant=tenant, request_id=request_id)
            self.session.add(row)
            self.requests[(tenant, request_id)] = row
        return row

    def running(self, tenant: str, experiment_id: str | None) -> Experiment | None:
        experiment = self.experiments.get((tenant, experiment_id or ""))
        return experiment if experiment is not None and experiment.status == "running" else None

    def arm(self, experiment: Experiment, variant: str | None) -> ArmTotals | None:
        assert experiment.id is not None
        return self.arms.get(experiment.id, {}).get(variant or "")


def _by_tenant(keys: Iterable[TrafficKey]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for tenant, name in keys:
        grouped.setdefault(tenant, []).append(name)
    return grouped


async def _load_requests(loaded: Loaded, keys: Iterable[TrafficKey]) -> None:
    for tenant, request_ids in _by_tenant(keys).items():
        query = select(ExperimentRequest).where(
            col(ExperimentRequest.tenant) == tenant,
            col(ExperimentRequest.request_id).in_(request_ids),
        )
        for row in (await loaded.session.execute(query)).scalars():
            loaded.requests[(row.tenant, row.request_id)] = row


async def _lock_experiments(loaded: Loaded, keys: Iterable[TrafficKey]) -> None:
    """Load and lock experiments, tenant by tenant and by id: one order for every batch."""
    for tenant, experiment_ids in sorted(_by_tenant(keys).items()):
        query = (
            select(Experiment)
            .where(
                col(Experiment.tenant) == tenant,
                col(Experiment.experiment_id).in_(experiment_ids),
            )
            .order_by(col(Experiment.id))
            .with_for_update()
        )
        for row in (await loaded.session.execute(query)).scalars():
            loaded.experiments[(row.tenant, row.experiment_id)] = row


async def _load_arms(loaded: Loaded) -> None:
    pks = [e.id for e in loaded.experiments.values() if e.id is not None]
    if not pks:
        return
    query = select(ArmTotals).where(col(ArmTotals.experiment_pk).in_(pks))
    for arm in (await loaded.session.execute(query)).scalars():
        loaded.arms.setdefault(arm.experiment_pk, {})[arm.variant] = arm


async def load_traffic(
    session: AsyncSession, events: list[InferenceCompleted | FeedbackRecorded]
) -> Loaded:
    """Load (and lock) what ``events`` touch: their requests, experiments and arms."""
    loaded = Loaded(session)
    await _load_requests(loaded, ((e.tenant, e.request_id) for e in events))
    wanted = {(e.tenant, e.experiment_id) for e in events if e.experiment_id is not None}
    wanted |= {(r.tenant, r.experiment_id) for r in loaded.requests.values() if r.experiment_id}
    await _lock_experiments(loaded, wanted)
    await _load_arms(loaded)
    return loaded


def fold_inference(loaded: Loaded, event: InferenceCompleted) -> Experiment | None:
    """Count a served request in its arm; the experiment it changed, if one is running.

    A request of an experiment not announced yet is kept and counted when it is announced
    (events of different streams may arrive in any order)."""
    if event.experiment_id is None or event.variant is None:
        return None
    request = loaded.request(event.tenant, event.request_id)
    request.experiment_id = event.experiment_id
    request.variant = event.variant
    request.served = True
    request.failed = event.status == "error"
    request.fallback = event.fallback
    request.latency_ms = event.latency_ms
    experiment = loaded.running(event.tenant, event.experiment_id)
    if experiment is None or request.counted:
        return None
    arm = loaded.arm(experiment, event.variant)
    if arm is None:
        return None
    count_request(arm, request, definition_of(experiment).primary_metric)
    return experiment


def fold_feedback(loaded: Loaded, event: FeedbackRecorded) -> Experiment | None:
    """Count feedback in the arm of its request: from the event, or from the stored request.

    Feedback on a request not counted yet waits for it (it is counted with the request)."""
    request = loaded.request(event.tenant, event.request_id)
    if request.feedback_received:
        return None
    request.feedback_received = True
    request.gold_star, request.rating = event.gold_star, event.rating
    request.experiment_id = request.experiment_id or event.experiment_id
    request.variant = request.variant or event.variant
    experiment = loaded.running(event.tenant, request.experiment_id)
    if experiment is None or not request.counted:
        return None
    arm = loaded.arm(experiment, request.variant)
    if arm is None:
        return None
    count_feedback(arm, request, definition_of(experiment).primary_metric)
    return experiment


__all__ = [
    "Loaded",
    "arm_state",
    "arms_of",
    "count_early_requests",
    "create_experiment",
    "definition_of",
    "find_experiment",
    "fold_feedback",
    "fold_inference",
    "load_traffic",
    "snapshot_due",
]
