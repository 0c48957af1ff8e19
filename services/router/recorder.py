"""``inference.completed`` events, published off the request path in batches."""

import asyncio
import logging
from contextlib import suppress

from contracts.events import InferenceCompleted
from libs.messaging import Bus

logger = logging.getLogger("tuneloop.router.recorder")

BATCH = 256
QUEUE_LIMIT = 100_000


class InferenceRecorder:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.queue: asyncio.Queue[InferenceCompleted] = asyncio.Queue(QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def record(self, event: InferenceCompleted) -> None:
        """Never blocks the request: a full queue drops the event and counts it."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    async def _publish_batch(self) -> None:
        batch = [await self.queue.get()]
        while len(batch) < BATCH and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        results = await asyncio.gather(
            *(self.bus.publish_event(e) for e in batch), return_exceptions=True
        )
        for event, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                logger.warning("inference event not stored yet (%s); retrying", result)
                self.record(event)
                await asyncio.sleep(0.5)

    async def run(self) -> None:
        while True:
            await self._publish_batch()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="inference-recorder")

    async def flush(self, timeout: float = 10.0) -> None:
        """Publish what is queued (on shutdown)."""
        with suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self.queue.empty():
                    await asyncio.sleep(0.02)

    async def stop(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task


__all__ = ["InferenceRecorder"]
