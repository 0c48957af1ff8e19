"""Runs in the database: each change is written with its events and the commands it sends,
in one transaction, after claiming the message that caused it (so a redelivery does nothing).
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import utc_now
from libs.messaging import Bus, OutboxRelay, add_to_outbox, claim_message
from libs.storage import Database
from services.retrainer.machine import Change, check_allowed
from services.retrainer.run_events import completed_event, updated_event
from services.retrainer.tables import RetrainingPolicy, RetrainingRun

Step = Callable[[RetrainingRun], Change | None]
"""Decides what a fact does to a run (see :mod:`services.retrainer.machine`)."""


async def locked_run(session: AsyncSession, *conditions: Any) -> RetrainingRun | None:
    statement = select(RetrainingRun).where(*conditions).with_for_update()
    return (await session.execute(statement)).scalars().first()


def record(session: AsyncSession, bus: Bus, run: RetrainingRun, change: Change) -> None:
    """Write ``change`` to ``run`` with its event and its commands (in the caller's
    transaction); a final change frees the policy for its next run."""
    before = run.status
    check_allowed(before, change.status)
    now = utc_now()
    if change.status != before:
        run.stage_started_at = now
    run.status, run.summary, run.updated_at = change.status, change.summary, now
    run.history = [
        *run.history,
        {"status": change.status, "at": now.isoformat(), "summary": change.summary},
    ]
    for command in change.send:
        add_to_outbox(session, bus, command)
    if change.final:
        run.finished_at = now
        add_to_outbox(session, bus, completed_event(run, change.status, change.summary))  # type: ignore[arg-type]
    else:
        add_to_outbox(session, bus, updated_event(run, before, change.summary))  # type: ignore[arg-type]


async def free_policy(session: AsyncSession, run: RetrainingRun) -> None:
    await session.execute(
        update(RetrainingPolicy)
        .where(
            col(RetrainingPolicy.tenant) == run.tenant,
            col(RetrainingPolicy.active_run_id) == run.id,
        )
        .values(active_run_id=None, updated_at=utc_now())
    )


class RunBook:
    def __init__(self, database: Database, bus: Bus, outbox: OutboxRelay) -> None:
        self.database = database
        self.bus = bus
        self.outbox = outbox

    async def react(
        self, consumer: str, message_id: str | None, step: Step, *conditions: Any
    ) -> RetrainingRun | None:
        """Apply ``step`` to the run matching ``conditions``, once per message id.

        Returns the run when it changed.
        """
        async with self.database.transaction() as session:
            if message_id is not None and not await claim_message(session, consumer, message_id):
                return None
            run = await locked_run(session, *conditions)
            if run is None:
                return None
            change = step(run)
            if change is None:
                return None
            record(session, self.bus, run, change)
            if change.final:
                await free_policy(session, run)
        self.outbox.notify()
        return run

    async def change(self, run_id: str, step: Step) -> RetrainingRun | None:
        """Apply ``step`` to one run (a person's request, the clock)."""
        return await self.react("", None, step, col(RetrainingRun.id) == run_id)

    async def get(self, tenant: str, run_id: str) -> RetrainingRun | None:
        async with self.database.session() as session:
            run = await session.get(RetrainingRun, run_id)
        return run if run is not None and run.tenant == tenant else None

    async def active(self, *statuses: str) -> list[RetrainingRun]:
        async with self.database.session() as session:
            statement = select(RetrainingRun).where(col(RetrainingRun.status).in_(statuses))
            return list((await session.execute(statement)).scalars())

    async def listed(
        self, tenant: str, model_name: str | None, status: str | None, limit: int
    ) -> list[RetrainingRun]:
        statement = select(RetrainingRun).where(col(RetrainingRun.tenant) == tenant)
        if model_name is not None:
            statement = statement.where(col(RetrainingRun.model_name) == model_name)
        if status is not None:
            statement = statement.where(col(RetrainingRun.status) == status)
        statement = statement.order_by(col(RetrainingRun.created_at).desc()).limit(limit)
        async with self.database.session() as session:
            return list((await session.execute(statement)).scalars())


__all__ = ["RunBook", "Step", "free_policy", "locked_run", "record"]
