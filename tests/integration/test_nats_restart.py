"""Kill -9 the nats-server mid-stream and restart it on the same store.

A publisher keeps publishing (retrying each message with the same id until JetStream
acknowledges it) and a consumer applies each message through the inbox. Every acknowledged
message must be applied exactly once: none lost, none applied twice.
"""

import asyncio
from pathlib import Path

import pytest
from faststream.nats import NatsRouter
from nats.errors import Error as NatsError
from sqlalchemy import func, select, text

from contracts.events import JobProgressed
from libs.messaging import Bus, Subjects, claim_message, event_subscriber
from libs.storage import Database, migrate_to_head
from libs.supervision.nats_server import EmbeddedNats
from tests.integration.harness import running_bus
from tests.polling import eventually

pytestmark = pytest.mark.integration

MESSAGES = 300
KILL_AFTER = 100
CONSUMER = "registry__job_progress"


async def publish_until_acked(bus: Bus, event: JobProgressed) -> None:
    while True:
        try:
            await bus.publish_event(event)
            return
        except (NatsError, TimeoutError, OSError):
            await asyncio.sleep(0.05)


async def test_every_acknowledged_message_is_applied_exactly_once(
    tmp_path: Path, subjects: Subjects
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}")
    await migrate_to_head(database.url)
    async with database.transaction() as session:
        await session.execute(text("create table applied (message_id text not null)"))
    deliveries: list[str] = []
    router = NatsRouter()

    @event_subscriber(router, subjects, "registry", JobProgressed)
    async def apply(event: JobProgressed) -> None:
        deliveries.append(event.id)
        async with database.transaction() as session:
            if await claim_message(session, CONSUMER, event.id):
                await session.execute(text("insert into applied values (:id)"), {"id": event.id})

    server = EmbeddedNats(tmp_path / "nats")
    url = server.start()
    acknowledged: list[str] = []
    try:
        async with running_bus(url, subjects, router) as bus:
            for step in range(MESSAGES):
                if step == KILL_AFTER:
                    server.kill()
                    restarted = EmbeddedNats(tmp_path / "nats", port=server.port)
                    asyncio.get_running_loop().call_later(1.0, restarted.start)
                    server = restarted
                event = JobProgressed(job_id="restart", step=step, total_steps=MESSAGES, epoch=0)
                await publish_until_acked(bus, event)
                acknowledged.append(event.id)

            async def applied_count() -> int:
                async with database.session() as session:
                    return int(
                        await session.scalar(select(func.count()).select_from(text("applied"))) or 0
                    )

            async def all_applied() -> bool:
                return await applied_count() == MESSAGES

            await eventually(all_applied, timeout=60, what="every message applied")
        async with database.session() as session:
            rows = (await session.execute(text("select message_id from applied"))).scalars().all()
        assert sorted(rows) == sorted(acknowledged)
        assert len(set(rows)) == len(rows) == MESSAGES
        assert len(deliveries) >= MESSAGES
    finally:
        server.stop()
        await database.dispose()
