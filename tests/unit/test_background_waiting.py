"""A loop stopped by cancelling it stops even when the cancel meets its event being set."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Literal

import pytest

from libs.background import wait_for_event
from tests.polling import eventually

pytestmark = pytest.mark.unit
Waiter = Callable[[asyncio.Event, float], Awaitable[object]]


async def wait_for_builtin(event: asyncio.Event, seconds: float) -> object:
    """What the loops used to do (on Python 3.11, loses such a cancellation)."""
    try:
        return await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False


class WatchedEvent(asyncio.Event):
    """An event that tells when something waits on it."""

    waiting = False

    async def wait(self) -> Literal[True]:
        self.waiting = True
        return await super().wait()


async def cancelled_as_the_event_is_set(waiter: Waiter) -> bool:
    """Whether a loop waiting with ``waiter`` ends when cancelled just as its event is set."""
    event = WatchedEvent()

    async def loop() -> None:
        while True:
            event.clear()
            await waiter(event, 60)

    task = asyncio.create_task(loop())
    await eventually(lambda: event.waiting, interval=0, what="the loop waiting on its event")
    event.set()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=1)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=1)
    return bool(done) and task.cancelled()


async def test_a_cancel_that_meets_the_event_stops_the_loop() -> None:
    assert await cancelled_as_the_event_is_set(wait_for_event)


async def test_the_builtin_wait_for_is_the_reason() -> None:
    if sys.version_info >= (3, 12):
        pytest.skip("asyncio.wait_for keeps such a cancellation from Python 3.12 on")
    assert not await cancelled_as_the_event_is_set(wait_for_builtin)


async def test_the_event_or_the_time_limit_ends_the_wait() -> None:
    event = asyncio.Event()
    assert not await wait_for_event(event, 0.01)
    asyncio.get_running_loop().call_soon(event.set)
    assert await wait_for_event(event, 5)
