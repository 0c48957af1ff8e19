"""Waiting for an event with a time limit, in loops that are stopped by cancelling them.

On Python 3.11, ``asyncio.wait_for`` loses a cancellation that arrives while the awaited
event is being set: it returns the result instead of raising, the loop goes round again,
and whoever cancelled it waits for it forever. ``asyncio.timeout`` keeps the cancellation.
"""

import asyncio


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """Whether ``event`` was set within ``seconds``; a cancellation is never lost."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


__all__ = ["wait_for_event"]
