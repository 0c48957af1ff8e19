"""The retrainer: facts from other services move runs on; the clock starts runs and nudges
the ones waiting; people create, switch and trigger policies."""

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlmodel import col

from contracts.api.retraining import RetrainingPolicyCreate
from contracts.envelope import Event, utc_now
from contracts.events import (
    DatasetExported,
    DatasetExportFailed,
    EvaluationCompleted,
    EvaluationFailed,
    ExperimentConcluded,
    ExperimentStarted,
    ExperimentStartFailed,
    ExperimentStopped,
    FeedbackRecorded,
    JobCancelled,
    JobCompleted,
    JobFailed,
    ModelRegistered,
)
from contracts.retraining import ACTIVE_RUN_STATUSES, TriggerKind
from libs.messaging import Bus, OutboxRelay
from libs.storage import Database
from services.retrainer import machine, triggers
from services.retrainer.clock import aware, aware_or_none
from services.retrainer.errors import NothingServed, RunActive
from services.retrainer.policies import Policies, spec_of
from services.retrainer.questions import Questions
from services.retrainer.runs import RunBook
from services.retrainer.served import served_version
from services.retrainer.starting import start_run
from services.retrainer.tables import RetrainingPolicy, RetrainingRun

logger = logging.getLogger("tuneloop.retrainer")

RECENT_GOLD_STAR_SECONDS = 30.0
"""After a gold-star feedback, the tenant's policies are counted at every tick this long (the
exporter stores the example at about the same time the retrainer hears of it)."""


class Retrainer:
    def __init__(
        self,
        database: Database,
        bus: Bus,
        outbox: OutboxRelay,
        questions: Questions,
        stage_limits: dict[str, float],
        count_seconds: float,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.database = database
        self.policies = Policies(database, bus, outbox)
        self.runs = RunBook(database, bus, outbox)
        self.bus = bus
        self.outbox = outbox
        self.questions = questions
        self.stage_limits = stage_limits
        self.count_seconds = count_seconds
        self.wake = wake
        self._gold_star_until: dict[str, float] = {}

    # --- people ------------------------------------------------------------------------

    async def create_policy(self, tenant: str, body: RetrainingPolicyCreate) -> RetrainingPolicy:
        """Create it and count the gold stars there are: only new ones count towards a run."""
        policy = await self.policies.create(tenant, body)
        assert policy.id is not None
        count = await self.questions.gold_stars(tenant, spec_of(policy).export.filters)
        if count is not None:
            policy = await self.policies.counted(policy.id, count) or policy
        return policy

    async def run_now(self, tenant: str, model_name: str) -> RetrainingRun:
        """A person's run: whatever the trigger says (a switched-off policy too)."""
        policy = await self.policies.get(tenant, model_name)
        assert policy.id is not None
        count = await self.questions.gold_stars(tenant, spec_of(policy).export.filters)
        run = await start_run(
            self.database, self.bus, self.outbox, policy.id, "manual", "asked for", count
        )
        return run

    async def cancel(self, tenant: str, run_id: str) -> RetrainingRun | None:
        run = await self.runs.get(tenant, run_id)
        if run is None:
            return None
        return await self.runs.change(run.id, machine.cancel) or await self.runs.get(tenant, run_id)

    # --- facts from other services -----------------------------------------------------

    async def react(self, event: Event, step: Callable[[RetrainingRun], Any], *where: Any) -> None:
        run = await self.runs.react(
            f"retrainer:{event.type}",
            event.id,
            step,
            col(RetrainingRun.tenant) == event.tenant,
            col(RetrainingRun.status).in_(ACTIVE_RUN_STATUSES),
            *where,
        )
        if run is not None and run.status == "evaluating" and not run.evaluation_requested:
            await self.guarded(self.start_evaluation(run), f"run {run.id}")

    async def dataset_exported(self, event: DatasetExported) -> None:
        await self.react(
            event,
            lambda run: machine.dataset_exported(run, event),
            col(RetrainingRun.export_id) == event.dataset_id,
        )

    async def export_failed(self, event: DatasetExportFailed) -> None:
        await self.react(
            event,
            lambda run: machine.export_failed(run, event),
            col(RetrainingRun.export_id) == event.command_id,
        )

    async def job_completed(self, event: JobCompleted) -> None:
        await self.react(
            event,
            lambda run: machine.job_completed(run, event),
            col(RetrainingRun.job_id) == event.job_id,
        )

    async def job_ended(self, event: JobFailed | JobCancelled) -> None:
        await self.react(
            event,
            lambda run: machine.job_ended(run, event),
            col(RetrainingRun.job_id) == event.job_id,
        )

    async def model_registered(self, event: ModelRegistered) -> None:
        if event.job_id is None:
            return
        await self.react(
            event,
            lambda run: machine.model_registered(run, event),
            col(RetrainingRun.job_id) == event.job_id,
        )

    async def evaluation_completed(self, event: EvaluationCompleted) -> None:
        await self.react(
            event,
            lambda run: machine.evaluation_completed(run, event),
            col(RetrainingRun.evaluation_id) == event.evaluation_id,
        )

    async def evaluation_failed(self, event: EvaluationFailed) -> None:
        await self.react(
            event,
            lambda run: machine.evaluation_failed(run, event),
            col(RetrainingRun.evaluation_id) == event.evaluation_id,
        )

    async def experiment_started(self, event: ExperimentStarted) -> None:
        await self.react(
            event,
            lambda run: machine.experiment_started(run, event),
            col(RetrainingRun.experiment_id) == event.experiment_id,
        )

    async def experiment_refused(self, event: ExperimentStartFailed) -> None:
        await self.react(
            event,
            lambda run: machine.experiment_refused(run, event),
            col(RetrainingRun.experiment_id) == event.experiment_id,
        )

    async def experiment_concluded(self, event: ExperimentConcluded) -> None:
        await self.react(
            event,
            lambda run: machine.experiment_concluded(run, event),
            col(RetrainingRun.experiment_id) == event.experiment_id,
        )

    async def experiment_stopped(self, event: ExperimentStopped) -> None:
        await self.react(
            event,
            lambda run: machine.experiment_stopped(run, event),
            col(RetrainingRun.experiment_id) == event.experiment_id,
        )

    def feedback_recorded(self, event: FeedbackRecorded) -> None:
        """A gold star: count the tenant's policies soon (at the next ticks)."""
        if event.gold_star:
            self._gold_star_until[event.tenant] = time.monotonic() + RECENT_GOLD_STAR_SECONDS
            self.wake()

    def recent_gold_star(self, tenant: str) -> bool:
        return self._gold_star_until.get(tenant, 0.0) > time.monotonic()

    # --- the clock ---------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> None:
        """One round: start due runs, ask for pending evaluations, fail stuck runs."""
        now = now or utc_now()
        for policy in await self.policies.idle_enabled():
            await self.guarded(self.consider(policy, now), f"policy {policy.model_name}")
        for run in await self.runs.active(*ACTIVE_RUN_STATUSES):
            if run.status == "evaluating" and not run.evaluation_requested:
                await self.guarded(self.start_evaluation(run), f"run {run.id}")
            await self.guarded(
                self.runs.change(run.id, lambda r: machine.timed_out(r, now, self.stage_limits)),
                f"run {run.id}",
            )

    @staticmethod
    async def guarded(work: Awaitable[Any], what: str) -> None:
        """One policy or run that fails to advance does not stop the round."""
        try:
            await work
        except Exception:
            logger.exception("retrainer could not advance %s; trying again next tick", what)

    async def consider(self, policy: RetrainingPolicy, now: datetime) -> RetrainingRun | None:
        """Count the policy's gold stars when due, and start a run when its trigger fires."""
        policy_id = policy.id
        assert policy_id is not None
        spec = spec_of(policy)
        anchor = aware(policy.schedule_anchor_at)
        if triggers.count_wanted(
            spec.trigger,
            aware_or_none(policy.counted_at),
            anchor,
            now,
            self.recent_gold_star(policy.tenant),
            self.count_seconds,
        ):
            count = await self.questions.gold_stars(policy.tenant, spec.export.filters)
            if count is not None:
                policy = await self.policies.counted(policy_id, count) or policy
        counts = triggers.Counts(policy.gold_stars_baseline, policy.gold_stars_counted)
        decision = triggers.decide(spec.trigger, counts, anchor, now)
        if decision.fire is None:
            await self.policies.waiting(policy_id, decision.waiting_for)
            return None
        return await self.start(policy, decision.fire, decision.reason, counts.now)

    async def start(
        self, policy: RetrainingPolicy, kind: TriggerKind, reason: str, gold_stars: int | None
    ) -> RetrainingRun | None:
        assert policy.id is not None
        try:
            run = await start_run(
                self.database, self.bus, self.outbox, policy.id, kind, reason, gold_stars
            )
        except NothingServed as exc:
            await self.policies.waiting(policy.id, exc.message)
            return None
        except RunActive:
            return None
        logger.info("retraining %s: run %s (%s)", policy.model_name, run.id, reason)
        return run

    async def start_evaluation(self, run: RetrainingRun) -> None:
        """Ask the evaluator once the router can serve both versions (it learns of the new
        one from the registry's event, like the retrainer, maybe a moment later)."""
        async with self.database.session() as session:
            served = await served_version(session, run.tenant, run.model_name, run.serving_alias)
        if served is not None:
            assert run.candidate_serving_name is not None
            names = [served.serving_name, run.candidate_serving_name]
            servable = await self.questions.servable(run.tenant, names)
            if servable is None or not set(names) <= servable:
                return  # not yet: the next tick asks again (until the stage's time limit)
        await self.runs.change(run.id, lambda r: machine.evaluation_due(r, served))


__all__ = ["RECENT_GOLD_STAR_SECONDS", "Retrainer"]
