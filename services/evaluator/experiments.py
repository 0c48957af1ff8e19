"""The experiments' operations, each in one transaction: what handlers and the API call."""

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.evaluations import ExperimentView
from contracts.commands import DeployModel
from contracts.envelope import utc_now
from contracts.events import (
    ExperimentConcluded,
    ExperimentStarted,
    ExperimentUpdated,
    FeedbackRecorded,
    InferenceCompleted,
)
from contracts.events.evaluations import ArmStatistics
from libs.messaging import Bus, OutboxRelay, add_to_outbox, claim_message, claim_messages
from libs.storage import Database, GroupCommit
from services.evaluator.decision import Decision, decide, planned_units_per_arm
from services.evaluator.errors import NotFound
from services.evaluator.looks import looks_from_json, looks_to_json
from services.evaluator.tables import ArmTotals, Experiment
from services.evaluator.tracking import (
    Loaded,
    arm_state,
    arms_of,
    count_early_requests,
    create_experiment,
    definition_of,
    find_experiment,
    fold_feedback,
    fold_inference,
    load_traffic,
    snapshot_due,
)

STARTED_CONSUMER = "evaluator__experiment_started"
INFERENCE_CONSUMER = "evaluator__inference_completed"
FEEDBACK_CONSUMER = "evaluator__feedback_recorded"


class Experiments:
    def __init__(
        self, database: Database, bus: Bus, outbox: OutboxRelay, snapshot_interval_seconds: float
    ) -> None:
        self.database = database
        self.bus = bus
        self.outbox = outbox
        self.snapshot_interval_seconds = snapshot_interval_seconds
        self.traffic: GroupCommit[InferenceCompleted | FeedbackRecorded] = GroupCommit(
            self._record_traffic
        )

    async def start(self, event: ExperimentStarted) -> None:
        async with self.database.transaction() as session:
            if not await claim_message(session, STARTED_CONSUMER, event.id):
                return
            experiment = await create_experiment(session, event)
            if experiment is None:
                return
            arms = await arms_of(session, experiment)
            if await count_early_requests(session, experiment, arms):
                self.reassess(session, experiment, arms)
        self.outbox.notify()

    async def record_inference(self, event: InferenceCompleted) -> None:
        """Count a served request; returns once committed (with whatever arrived with it)."""
        await self.traffic.submit(event)

    async def record_feedback(self, event: FeedbackRecorded) -> None:
        """Count a user's feedback; returns once committed (with whatever arrived with it)."""
        await self.traffic.submit(event)

    async def _record_traffic(self, events: list[InferenceCompleted | FeedbackRecorded]) -> None:
        """Fold a batch of requests and feedback in one transaction (one writer: SQLite has
        one write lock, so two would only wait for each other)."""
        async with self.database.transaction() as session:
            inferences = await fresh(session, INFERENCE_CONSUMER, events, InferenceCompleted)
            feedback = await fresh(session, FEEDBACK_CONSUMER, events, FeedbackRecorded)
            loaded = await load_traffic(session, [*inferences, *feedback])
            changed = [fold_inference(loaded, event) for event in inferences]
            changed += [fold_feedback(loaded, event) for event in feedback]
            self.reassess_changed(session, loaded, changed)
        self.outbox.notify()

    def reassess_changed(
        self, session: AsyncSession, loaded: Loaded, changed: list[Experiment | None]
    ) -> None:
        """Decide once per experiment the batch changed, on its sums after the whole batch."""
        for experiment in {id(e): e for e in changed if e is not None}.values():
            assert experiment.id is not None
            self.reassess(session, experiment, loaded.arms[experiment.id])

    def reassess(
        self, session: AsyncSession, experiment: Experiment, arms: dict[str, ArmTotals]
    ) -> Decision:
        """Decide on the new sums; conclude, or publish a snapshot when one is due."""
        definition = definition_of(experiment)
        states = {variant: arm_state(row) for variant, row in arms.items()}
        decision = decide(definition, states, looks_from_json(experiment.running_looks))
        experiment.running_looks = looks_to_json(decision.looks)
        experiment.summary = decision.summary
        now = utc_now()
        statistics = [states[arm.variant].statistics() for arm in definition.arms]
        if decision.concluded:
            experiment.status, experiment.verdict = "concluded", decision.verdict
            experiment.concluded_at = now
            add_to_outbox(session, self.bus, concluded_event(definition, decision, statistics))
            if decision.action == "promote" and decision.winner is not None:
                add_to_outbox(session, self.bus, promotion(definition, decision.winner))
        elif snapshot_due(experiment, now, self.snapshot_interval_seconds):
            experiment.last_snapshot_at = now
            add_to_outbox(
                session,
                self.bus,
                ExperimentUpdated(
                    tenant=definition.tenant,
                    experiment_id=definition.experiment_id,
                    arms=statistics,
                    p_value=decision.p_value,
                    results=decision.results,
                    srm_p_value=decision.srm_p_value,
                    summary=decision.summary,
                ),
            )
        return decision

    async def describe(self, tenant: str, experiment_id: str) -> ExperimentView:
        async with self.database.session() as session:
            experiment = await find_experiment(session, tenant, experiment_id)
            if experiment is None:
                raise NotFound(
                    f"no experiment {experiment_id!r} for tenant {tenant!r}; experiments start "
                    "when the router announces them with experiment.started"
                )
            arms = await arms_of(session, experiment)
        definition = definition_of(experiment)
        states = {variant: arm_state(row) for variant, row in arms.items()}
        decision = decide(definition, states, looks_from_json(experiment.running_looks))
        control = states[definition.control.variant]
        return ExperimentView(
            experiment_id=experiment.experiment_id,
            status="concluded" if experiment.status == "concluded" else "running",
            verdict=experiment.verdict,
            summary=experiment.summary or decision.summary,
            primary_metric=definition.primary_metric,
            method=definition.stopping.method,
            alpha=definition.alpha,
            arms=[states[arm.variant].statistics() for arm in definition.arms],
            results=decision.results,
            srm_p_value=decision.srm_p_value,
            planned_units_per_arm=planned_units_per_arm(definition, control.metric),
            recommendation=decision.recommendation,
            definition=experiment.definition,
            created_at=experiment.created_at,
            concluded_at=experiment.concluded_at,
        )


Traffic = TypeVar("Traffic", InferenceCompleted, FeedbackRecorded)


async def fresh(
    session: AsyncSession,
    consumer: str,
    events: list[InferenceCompleted | FeedbackRecorded],
    kind: type[Traffic],
) -> list[Traffic]:
    """The events of ``kind`` this consumer has not applied before (claimed now), once each."""
    of_kind = {e.id: e for e in events if isinstance(e, kind)}
    if not of_kind:
        return []
    claimed = await claim_messages(session, consumer, list(of_kind))
    return [event for event_id, event in of_kind.items() if event_id in claimed]


def concluded_event(
    definition: ExperimentStarted, decision: Decision, statistics: list[ArmStatistics]
) -> ExperimentConcluded:
    assert decision.verdict is not None
    return ExperimentConcluded(
        tenant=definition.tenant,
        experiment_id=definition.experiment_id,
        verdict=decision.verdict,
        winner=decision.winner,
        summary=decision.summary,
        p_value=decision.p_value,
        action=decision.action,
        route_to=decision.route_to,
        reasons=decision.reasons,
        arms=statistics,
        results=decision.results,
        recommendation=decision.recommendation,
    )


def promotion(definition: ExperimentStarted, winner: str) -> DeployModel:
    arm = next(a for a in definition.treatments if a.variant == winner)
    return DeployModel(
        tenant=definition.tenant,
        model_name=arm.model_name,
        version=arm.version,
        alias=definition.stopping.alias,
        justification=definition.experiment_id,
        actor="evaluator",
        notes=f"won experiment {definition.experiment_id}",
    )


__all__ = ["Experiments"]
