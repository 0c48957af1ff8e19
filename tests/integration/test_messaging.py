"""Messaging against a real nats-server: de-duplication, dead letters, retries, replay."""

import json

import nats
import pytest
from faststream.nats import NatsRouter

from contracts.events import JobFailed
from libs.messaging import Subjects, event_subscriber, list_dead_letters, replay_dead_letter
from libs.messaging.headers import MSG_ID
from tests.integration.harness import running_bus
from tests.polling import eventually

pytestmark = pytest.mark.integration


def failed_job(job_id: str) -> JobFailed:
    return JobFailed(job_id=job_id, error={"code": "oom", "message": "Lower the batch size."})


async def test_a_republished_event_is_stored_and_handled_once(
    nats_url: str, subjects: Subjects
) -> None:
    handled: list[str] = []
    router = NatsRouter()

    @event_subscriber(router, subjects, "registry", JobFailed)
    async def on_failed(event: JobFailed) -> None:
        handled.append(event.id)

    async with running_bus(nats_url, subjects, router) as bus:
        event = failed_job("job-dup")
        first = await bus.publish_event(event)
        second = await bus.publish_event(event)
        await eventually(lambda: len(handled) >= 1, what="event handled")
        other = await bus.publish_event(failed_job("job-other"))
        await eventually(lambda: len(handled) >= 2, what="second event handled")
    assert not first.duplicate
    assert second.duplicate
    assert second.seq == first.seq
    assert handled == [event.id, handled[1]]
    assert other.seq == first.seq + 1


async def test_an_invalid_message_is_dead_lettered_with_the_field(
    nats_url: str, subjects: Subjects
) -> None:
    handled: list[str] = []
    router = NatsRouter()

    @event_subscriber(router, subjects, "registry", JobFailed)
    async def on_failed(event: JobFailed) -> None:
        handled.append(event.id)

    async with running_bus(nats_url, subjects, router) as bus:
        broken = {"type": "job.failed", "job_id": "job-bad"}  # no `error`
        await bus.broker.publish(
            json.dumps(broken).encode(),
            subjects.event(JobFailed),
            headers={MSG_ID: "broken-1"},
            stream=subjects.stream_of_event(JobFailed),
        )
        await bus.publish_event(failed_job("job-good"))
        await eventually(lambda: len(handled) == 1, what="the good event handled")
        client = await nats.connect(nats_url)
        try:
            letters = await list_dead_letters(client, subjects)
            await eventually(lambda: len(letters) == 1, timeout=1, what="one dead letter")
        finally:
            await client.close()
    [letter] = letters
    assert letter.reason == "invalid"
    assert "error" in letter.error
    assert "Field required" in letter.error
    assert letter.consumer == subjects.consumer_name("registry", "job.failed")
    assert letter.original_subject == subjects.event(JobFailed)
    assert json.loads(letter.data) == broken


async def test_a_failing_handler_is_retried_then_dead_lettered_then_replayed(
    nats_url: str, subjects: Subjects
) -> None:
    attempts: list[int] = []
    applied: list[str] = []
    healthy = False
    router = NatsRouter()

    @event_subscriber(router, subjects, "cost", JobFailed)
    async def on_failed(event: JobFailed) -> None:
        attempts.append(1)
        if not healthy:
            raise RuntimeError("price table unavailable")
        applied.append(event.id)

    client = await nats.connect(nats_url)
    try:
        async with running_bus(nats_url, subjects, router, max_attempts=3) as bus:
            event = failed_job("job-retry")
            await bus.publish_event(event)

            async def dead_lettered() -> bool:
                return len(await list_dead_letters(client, subjects)) == 1

            await eventually(dead_lettered, what="dead letter after the last attempt")
            assert len(attempts) == 3
            [letter] = await list_dead_letters(client, subjects)
            assert letter.reason == "failed"
            assert letter.attempts == 3
            assert "price table unavailable" in letter.error

            healthy = True
            await replay_dead_letter(client, subjects, letter)
            await eventually(lambda: applied == [event.id], what="replayed event applied")
            assert await list_dead_letters(client, subjects) == []
    finally:
        await client.close()


async def test_a_transient_failure_is_retried_without_dead_letter(
    nats_url: str, subjects: Subjects
) -> None:
    attempts: list[str] = []
    router = NatsRouter()

    @event_subscriber(router, subjects, "evaluator", JobFailed)
    async def on_failed(event: JobFailed) -> None:
        attempts.append(event.id)
        if len(attempts) == 1:
            raise ConnectionError("database restarting")

    client = await nats.connect(nats_url)
    try:
        async with running_bus(nats_url, subjects, router) as bus:
            await bus.publish_event(failed_job("job-transient"))
            await eventually(lambda: len(attempts) == 2, what="second attempt")
        assert await list_dead_letters(client, subjects) == []
    finally:
        await client.close()
