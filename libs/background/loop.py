"""A task that does one round of work again and again until it is stopped.

Stopping cancels the task *and* raises a flag the loop checks between rounds. Cancelling
alone is not enough: a library can lose a cancellation (on Python 3.11 ``asyncio.wait_for``
returns the result when the cancel meets the awaited thing finishing, and nats-py waits for
every request reply and JetStream acknowledgement that way). A loop stopped only by
cancelling would then go on with its next round while whoever stopped it waits forever.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from libs.background.waiting import wait_for_event

logger = logging.getLogger("tuneloop.background")

Round = Callable[[], Awaitable[bool | None]]
"""One round of work; ``True`` when there is more to do at once (no wait before the next)."""


class BackgroundLoop:
    """Runs ``round`` in a task named ``name`` until :meth:`stop`.

    Between rounds it waits ``interval_seconds``, or less when :meth:`wake` is called (a
    wake during a round counts: the next round starts at once). A round that raises is
    passed to ``on_error`` (by default logged with its traceback) and the loop goes on.
    """

    def __init__(
        self,
        name: str,
        round: Round,
        interval_seconds: float,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.name = name
        self.round = round
        self.interval_seconds = interval_seconds
        self.on_error = on_error or self._log_failure
        self._wake = asyncio.Event()
        self._stopping = False
        self._waiting = False
        self._task: asyncio.Task[None] | None = None

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (a round that retries should give up)."""
        return self._stopping

    @property
    def waiting(self) -> bool:
        """Whether the loop is between rounds, waiting for its interval or a wake."""
        return self._waiting

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Start the next round now, or as soon as the one under way ends."""
        self._wake.set()

    def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop the loop and wait until its task has ended (a round under way is cancelled)."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        # asyncio.wait, not ``await task`` under suppress(CancelledError): a cancellation of
        # the caller itself goes through
        await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s ended with an error", self.name, exc_info=task.exception())

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self.round()
            except Exception as exc:
                self.on_error(exc)
                more = False
            if self._stopping:
                break
            if more:
                await asyncio.sleep(0)  # a round that never suspends must not hold the loop
            else:
                self._waiting = True
                try:
                    await wait_for_event(self._wake, self.interval_seconds)
                finally:
                    self._waiting = False

    def _log_failure(self, _: Exception) -> None:
        logger.exception("%s: a round failed; trying again", self.name)


__all__ = ["BackgroundLoop", "Round"]
