"""Event delivery through tuneloop's bus vs bare nats-py on the same JetStream server.

Both sides publish N events with a de-duplication id and wait for JetStream to store each,
then consume them through a durable pull consumer and acknowledge them. tuneloop adds the
envelope, contract validation, dead-letter middleware and Prometheus metrics; the peer does
only the NATS calls. The figure is events per second end to end, on 127.0.0.1.
"""

import asyncio
import tempfile
import time
from pathlib import Path

import nats
from faststream.nats import NatsRouter
from nats.js.api import ConsumerConfig, StreamConfig
from prometheus_client import CollectorRegistry

from benchmarks.report import Comparison
from contracts.events import JobProgressed
from libs.messaging import Bus, Subjects, create_broker, ensure_streams, event_subscriber
from libs.supervision.nats_server import EmbeddedNats

EVENTS = 3000
TIMEOUT_SECONDS = 120


def progress(step: int) -> JobProgressed:
    return JobProgressed(
        job_id="bench", step=step, total_steps=EVENTS, epoch=0.0, train_loss=1.0 / (step + 1)
    )


async def tuneloop_events_per_second(url: str) -> float:
    subjects = Subjects("benchtl")
    done = asyncio.Event()
    received = 0
    router = NatsRouter()

    @event_subscriber(router, subjects, "bench", JobProgressed)
    async def consume(event: JobProgressed) -> None:
        nonlocal received
        received += 1
        if received == EVENTS:
            done.set()

    broker = create_broker(
        url, subjects, max_attempts=3, metrics=CollectorRegistry(), service="bench"
    )
    broker.include_router(router)
    connection = await broker.connect()
    await ensure_streams(connection.jetstream(), subjects)
    await broker.start()
    bus = Bus(broker, subjects)
    events = [progress(step) for step in range(EVENTS)]
    started = time.perf_counter()
    for event in events:
        await bus.publish_event(event)
    await asyncio.wait_for(done.wait(), TIMEOUT_SECONDS)
    elapsed = time.perf_counter() - started
    await broker.stop()
    return EVENTS / elapsed


async def bare_nats_events_per_second(url: str) -> float:
    client = await nats.connect(url)
    js = client.jetstream()
    await js.add_stream(StreamConfig(name="BENCHRAW", subjects=["benchraw.>"]))
    payloads = [progress(step).model_dump_json().encode() for step in range(EVENTS)]
    ids = [progress(step).id for step in range(EVENTS)]
    subscription = await js.pull_subscribe(
        "benchraw.events.job.progress", durable="raw", config=ConsumerConfig(max_ack_pending=1000)
    )
    received = 0

    async def consume() -> None:
        nonlocal received
        while received < EVENTS:
            for message in await subscription.fetch(16, timeout=5):
                JobProgressed.model_validate_json(message.data)
                await message.ack()
                received += 1

    started = time.perf_counter()
    consumer = asyncio.create_task(consume())
    for payload, message_id in zip(payloads, ids, strict=True):
        await js.publish(
            "benchraw.events.job.progress", payload, headers={"Nats-Msg-Id": message_id}
        )
    await asyncio.wait_for(consumer, TIMEOUT_SECONDS)
    elapsed = time.perf_counter() - started
    await client.close()
    return EVENTS / elapsed


async def run_messaging_benchmark() -> Comparison:
    with tempfile.TemporaryDirectory() as directory, EmbeddedNats(Path(directory)) as server:
        peer = await bare_nats_events_per_second(server.url)
        ours = await tuneloop_events_per_second(server.url)
    return Comparison(
        name="messaging",
        metric=f"events/s, publish with dedup id → durable pull → ack ({EVENTS})",
        ours_label="tuneloop bus (envelope, validation, DLQ, metrics)",
        ours=ours,
        peer_label="bare nats-py JetStream",
        peer=peer,
    )


__all__ = ["run_messaging_benchmark"]
