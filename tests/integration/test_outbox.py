"""The transactional outbox: events committed with state are published; rolled back ones never."""

import pytest
from faststream.nats import NatsRouter
from sqlalchemy import select

from contracts.events import JobFailed
from libs.messaging import OutboxRelay, Subjects, add_to_outbox, event_subscriber
from libs.messaging.tables import OutboxMessage
from libs.storage import Database
from tests.integration.harness import running_bus
from tests.polling import eventually

pytestmark = pytest.mark.integration


async def test_committed_events_are_published_once_rolled_back_never(
    nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    received: list[str] = []
    router = NatsRouter()

    @event_subscriber(router, subjects, "registry", JobFailed)
    async def on_failed(event: JobFailed) -> None:
        received.append(event.job_id)

    database = Database(migrated_database_url)
    try:
        async with running_bus(nats_url, subjects, router) as bus:
            committed = JobFailed(job_id="committed", error={"code": "x", "message": "y"})
            async with database.transaction() as session:
                add_to_outbox(session, bus, committed)
            with pytest.raises(RuntimeError):
                async with database.transaction() as session:
                    add_to_outbox(
                        session,
                        bus,
                        JobFailed(job_id="rolled-back", error={"code": "x", "message": "y"}),
                    )
                    raise RuntimeError("state change failed")

            relay = OutboxRelay(database, bus)
            assert await relay.publish_pending() == 1
            assert await relay.publish_pending() == 0
            await eventually(lambda: received == ["committed"], what="event delivered")
            async with database.session() as session:
                row = (await session.execute(select(OutboxMessage))).scalar_one()
            assert row.published_at is not None
            assert row.message_id == committed.id
    finally:
        await database.dispose()


async def test_a_crash_after_publish_before_marking_is_deduplicated(
    nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    """Publishing the same outbox row twice (crash before the row was marked) stores it once."""
    database = Database(migrated_database_url)
    try:
        async with running_bus(nats_url, subjects) as bus:
            event = JobFailed(job_id="twice", error={"code": "x", "message": "y"})
            first = await bus.publish_event(event)
            async with database.transaction() as session:
                add_to_outbox(session, bus, event)
            await OutboxRelay(database, bus).publish_pending()
            info = await bus.broker.config.connection_state.stream.stream_info(
                subjects.stream_of_event(JobFailed)
            )
            assert info.state.messages == 1
            assert info.state.last_seq == first.seq
    finally:
        await database.dispose()
