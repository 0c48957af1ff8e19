"""A real broker on the test's own subject prefix, with tuneloop's middlewares and streams."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.nats import NatsBroker, NatsRouter

from libs.messaging import Bus, Subjects, create_broker, ensure_streams, stop_broker


@asynccontextmanager
async def running_bus(
    nats_url: str, subjects: Subjects, router: NatsRouter | None = None, max_attempts: int = 3
) -> AsyncIterator[Bus]:
    broker: NatsBroker = create_broker(
        nats_url, subjects, max_attempts=max_attempts, service="test"
    )
    if router is not None:
        broker.include_router(router)
    connection = await broker.connect()
    await ensure_streams(connection.jetstream(), subjects)
    await broker.start()
    try:
        yield Bus(broker, subjects)
    finally:
        await stop_broker(broker)
