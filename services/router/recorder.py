"""``inference.completed`` events, built and published off the request path.

The request path only queues a closure (no validation, no serialisation); a background task
collects what arrives within ``LINGER_SECONDS``, builds the events and publishes them as one
batch, pipelined on the NATS connection: one write and one read of acknowledgements for the
batch instead of a round of system calls (and a wake-up of the NATS server) per request. They go
straight to JetStream rather than through the broker's publisher: the recorder is the one
publisher that runs at request rate, its events carry no request's trace (they are published
from a background task), and the broker's per-message middleware would cost more than the
rest of the request.
"""

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress

from nats.js import JetStreamContext

from contracts.events import InferenceCompleted
from libs.background import BackgroundLoop
from libs.messaging import Bus
from libs.messaging.bus import PUBLISH_TIMEOUT_SECONDS, message_headers

logger = logging.getLogger("tuneloop.router.recorder")

BATCH = 256
SLICE = 8
"""Events built or published between two yields to the event loop: a batch never holds up a
request in flight for more than a slice's work."""
LINGER_SECONDS = 0.02
QUEUE_LIMIT = 100_000
RETRY_SECONDS = 0.5
PendingEvent = Callable[[], InferenceCompleted]


class InferenceRecorder:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.queue: asyncio.Queue[PendingEvent] = asyncio.Queue(QUEUE_LIMIT)
        self._loop = BackgroundLoop("inference-recorder", self._publish_round, RETRY_SECONDS)
        self._publishing = 0
        self._jetstream: JetStreamContext | None = None
        self.dropped = 0
        self.subject = bus.subjects.event(InferenceCompleted)
        self.stream = bus.subjects.stream_of_event(InferenceCompleted)

    def record(self, pending: PendingEvent) -> None:
        """Never blocks the request: a full queue drops the event and counts it."""
        try:
            self.queue.put_nowait(pending)
        except asyncio.QueueFull:
            self.dropped += 1

    async def publish(self, event: InferenceCompleted) -> None:
        """Publish and wait for JetStream to store it (its id de-duplicates a retry)."""
        headers = {"content-type": "application/json", **message_headers(event)}
        if self._jetstream is None:
            self._jetstream = self.bus.broker.connection.jetstream()
        await self._jetstream.publish(
            self.subject,
            event.model_dump_json().encode(),
            timeout=PUBLISH_TIMEOUT_SECONDS,
            stream=self.stream,
            headers=headers,
        )

    async def _publish_batch(self) -> None:
        batch = [await self.queue.get()]
        self._publishing = 1
        if self.queue.qsize() < BATCH - 1:
            await asyncio.sleep(LINGER_SECONDS)
        while len(batch) < BATCH and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        self._publishing = len(batch)
        try:
            await self._publish(batch)
        finally:
            self._publishing = 0

    async def _publish(self, batch: list[PendingEvent]) -> None:
        events = []
        for index, pending in enumerate(batch, start=1):
            try:
                events.append(pending())
            except Exception:
                logger.exception("an inference event could not be built; it is dropped")
            if index % SLICE == 0:
                await asyncio.sleep(0)
        sending = []
        for index, event in enumerate(events, start=1):
            sending.append(asyncio.ensure_future(self.publish(event)))
            if index % SLICE == 0:
                await asyncio.sleep(0)
        results = await asyncio.gather(*sending, return_exceptions=True)
        failed = [e for e, r in zip(events, results, strict=True) if isinstance(r, Exception)]
        if failed:
            logger.warning(
                "%d inference events not stored yet (%s); retrying",
                len(failed),
                next(r for r in results if isinstance(r, Exception)),
            )
            for event in failed:
                self.record(lambda event=event: event)  # type: ignore[misc]
            await asyncio.sleep(RETRY_SECONDS)

    async def _publish_round(self) -> bool:
        await self._publish_batch()
        return True

    def start(self) -> None:
        self._loop.start()

    async def flush(self, timeout: float = 10.0) -> None:
        """Publish what is queued and wait for the batch in flight (on shutdown)."""
        with suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self.queue.empty() or self._publishing:
                    await asyncio.sleep(0.02)

    async def stop(self) -> None:
        await self.flush()
        await self._loop.stop()


__all__ = ["InferenceRecorder"]
