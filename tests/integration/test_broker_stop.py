"""A broker whose server stops answering still stops: its connection is closed, not left
with live tasks and sockets."""

import os
import signal
from pathlib import Path

import pytest
from faststream.nats import NatsRouter

from contracts.events import JobCreated
from libs.messaging import Subjects, create_broker, ensure_streams, event_subscriber, stop_broker
from libs.supervision import EmbeddedNats
from tests.conftest import unique_name

pytestmark = pytest.mark.integration


async def test_a_broker_stops_when_its_server_no_longer_answers(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    subjects = Subjects(unique_name("t"))
    router = NatsRouter()

    @event_subscriber(router, subjects, "observer", JobCreated)
    async def ignore(event: JobCreated) -> None:
        return None

    broker = create_broker(server.url, subjects, max_attempts=1, service="test")
    broker.include_router(router)
    assert server.process is not None
    assert server.process.pid is not None
    pid = server.process.pid
    try:
        connection = await broker.connect()
        await ensure_streams(connection.jetstream(), subjects)
        await broker.start()
        os.kill(pid, signal.SIGSTOP)  # the server is there, and answers nothing
        await stop_broker(broker)
        assert connection.is_closed
    finally:
        os.kill(pid, signal.SIGCONT)
        server.stop()
