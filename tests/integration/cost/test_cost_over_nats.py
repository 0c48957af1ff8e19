"""The cost service over real NATS: job and inference events in, costs and budgets out."""

from decimal import Decimal

import pytest
from faststream.nats import NatsRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.cost import BudgetCreate
from contracts.envelope import utc_now
from contracts.events import BudgetExceeded, CostRecorded
from contracts.queries import BudgetCheckQuery, BudgetCheckReply
from libs.messaging import OutboxRelay, Subjects, event_subscriber
from libs.messaging.tables import ProcessedMessage
from services.cost.handlers import cost_handlers
from tests.integration.cost.conftest import costs_on, job_completed
from tests.integration.harness import running_bus
from tests.polling import eventually


async def claimed(session: AsyncSession, message_id: str) -> bool:
    query = select(ProcessedMessage).where(col(ProcessedMessage.message_id) == message_id)
    return (await session.execute(query)).first() is not None


pytestmark = pytest.mark.integration


async def test_jobs_are_costed_and_budgets_enforced_over_the_bus(
    nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    recorded: list[CostRecorded] = []
    exceeded: list[BudgetExceeded] = []
    listener = NatsRouter()

    @event_subscriber(listener, subjects, "observer", CostRecorded)
    async def on_cost(event: CostRecorded) -> None:
        recorded.append(event)

    @event_subscriber(listener, subjects, "observer", BudgetExceeded)
    async def on_exceeded(event: BudgetExceeded) -> None:
        exceeded.append(event)

    costs = costs_on(migrated_database_url)
    router = NatsRouter()
    router.include_router(cost_handlers(costs, subjects))
    router.include_router(listener)
    try:
        async with running_bus(nats_url, subjects, router) as bus:
            costs.bus = bus
            costs.outbox = OutboxRelay(costs.database, bus)
            costs.outbox.start()
            await costs.create_budget(
                "acme", BudgetCreate(scope="tenant", period="month", limit_usd=Decimal("0.08"))
            )
            event = job_completed("job-nats", wall_seconds=3600.0, time=utc_now())
            await bus.publish_event(event)
            await bus.publish_event(event.model_copy(update={"id": "redelivered-copy"}))
            await eventually(lambda: len(recorded) >= 1, what="cost.recorded")

            async def both_deliveries_handled() -> bool:
                async with costs.database.session() as session:
                    return await claimed(session, "redelivered-copy")

            await eventually(both_deliveries_handled, what="second copy handled")
            question = BudgetCheckQuery(tenant="acme", kind="job", estimated_usd=Decimal("0.04"))
            reply = await bus.ask(question, "cost", "budget.check", BudgetCheckReply)
            assert not reply.allowed
            assert "Raise the limit" in reply.message
            await bus.publish_event(job_completed("job-2", wall_seconds=3600.0, time=utc_now()))
            await eventually(lambda: len(exceeded) == 1, what="budget.exceeded")
            await costs.outbox.stop()
        amounts = sorted(e.amount_usd for e in recorded if e.reference_id == "job-nats")
        assert amounts == [Decimal("0.05")]  # the same job published twice is priced once
        assert exceeded[0].spent_usd >= Decimal("0.08")
        assert exceeded[0].tenant == "acme"
    finally:
        await costs.database.dispose()
