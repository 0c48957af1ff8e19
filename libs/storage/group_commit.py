"""Group commit: messages handled at the same time share one transaction.

A consumer that handles several messages concurrently (a subscriber with ``max_workers``)
hands each one to :class:`GroupCommit`; whatever is waiting when the previous transaction ends
goes into the next one, together. Each caller returns only once its own message is committed,
so it is acknowledged only then, and nothing is lost on a crash. When a shared transaction
fails, its messages are tried again one transaction each, so one bad message fails alone and
the others commit: the redelivery and dead-letter policy still sees one message at a time.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
ApplyBatch = Callable[[list[Item]], Awaitable[None]]

DEFAULT_MAX_BATCH = 64


@dataclass
class _Waiting(Generic[Item]):
    item: Item
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit(Generic[Item]):
    """Applies items in batches with ``apply_batch`` (one transaction per call)."""

    def __init__(self, apply_batch: ApplyBatch[Item], max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.apply_batch = apply_batch
        self.max_batch = max_batch
        self._waiting: list[_Waiting[Item]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        """How many transactions have been committed or attempted (for tests and metrics)."""

    async def submit(self, item: Item) -> None:
        """Apply ``item``; returns once it is committed, raises what applying it alone raised."""
        waiting = _Waiting(item)
        self._waiting.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="group-commit")
        await asyncio.shield(waiting.done)

    async def _write(self) -> None:
        while self._waiting:
            group, self._waiting = (
                self._waiting[: self.max_batch],
                self._waiting[self.max_batch :],
            )
            await self._apply(group)

    async def _apply(self, group: list[_Waiting[Item]]) -> None:
        self.batches += 1
        try:
            await self.apply_batch([waiting.item for waiting in group])
        except asyncio.CancelledError as exc:
            for waiting in group + self._waiting:
                _settle(waiting, exc)
            self._waiting = []
            raise
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0], exc)
                return
            for waiting in group:
                await self._apply([waiting])
            return
        for waiting in group:
            _settle(waiting, None)


def _settle(waiting: _Waiting[Item], error: BaseException | None) -> None:
    if waiting.done.done():
        return
    if error is None:
        waiting.done.set_result(None)
    else:
        waiting.done.set_exception(error)


__all__ = ["DEFAULT_MAX_BATCH", "GroupCommit"]
