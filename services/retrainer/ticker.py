"""The retrainer's clock: a round every few seconds, or at once when something wakes it."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from libs.background import wait_for_event

logger = logging.getLogger("tuneloop.retrainer.ticker")


class Ticker:
    def __init__(self, tick: Callable[[], Awaitable[None]], interval_seconds: float) -> None:
        self.tick = tick
        self.interval_seconds = interval_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:
                logger.exception("retrainer round failed; trying again")
            await wait_for_event(self._wake, self.interval_seconds)

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="retrainer-ticker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None


__all__ = ["Ticker"]
