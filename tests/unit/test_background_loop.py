"""A background loop runs its rounds, wakes when told, and always stops when stopped."""

import asyncio

import pytest

from libs.background import BackgroundLoop
from tests.polling import eventually

pytestmark = pytest.mark.unit

LONG = 60.0


class Rounds:
    """Counts rounds; each waits on ``gate`` while it is closed."""

    def __init__(self, more: bool = False) -> None:
        self.count = 0
        self.more = more
        self.gate = asyncio.Event()
        self.gate.set()
        self.inside = False

    async def __call__(self) -> bool:
        self.count += 1
        self.inside = True
        try:
            await self.gate.wait()
        finally:
            self.inside = False
        return self.more


async def a_round_that_loses_its_cancellation() -> None:
    """What a library that loses a cancellation looks like from outside: it returns."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return


async def test_a_loop_whose_round_loses_the_cancellation_still_stops() -> None:
    started = asyncio.Event()

    async def round() -> None:
        started.set()
        await a_round_that_loses_its_cancellation()

    loop = BackgroundLoop("under-test", round, LONG)
    loop.start()
    await started.wait()
    async with asyncio.timeout(5):
        await loop.stop()
    assert not loop.running


async def test_cancelling_alone_does_not_stop_such_a_loop() -> None:
    """Why the loop keeps a flag: the same round in a loop stopped only by cancelling."""
    rounds = 0
    test_over = False

    async def cancelled_only() -> None:
        nonlocal rounds
        while not test_over:  # only so that this test can end it
            rounds += 1
            await a_round_that_loses_its_cancellation()

    task = asyncio.create_task(cancelled_only())
    await eventually(lambda: rounds == 1, what="the first round")
    task.cancel()
    await eventually(lambda: rounds == 2, what="a round after the cancel")
    still_running = not task.done()
    test_over = True
    task.cancel()
    await asyncio.wait({task})
    assert still_running, "the cancellation was lost: the loop went round again"


async def test_rounds_wait_the_interval_unless_woken() -> None:
    rounds = Rounds()
    loop = BackgroundLoop("under-test", rounds, LONG)
    loop.start()
    try:
        await eventually(lambda: loop.waiting, what="the loop waiting after its first round")
        assert rounds.count == 1, "no second round before the interval"
        loop.wake()
        await eventually(lambda: rounds.count == 2, what="a round after the wake")
    finally:
        await loop.stop()


async def test_a_wake_during_a_round_starts_the_next_one_at_once() -> None:
    rounds = Rounds()
    rounds.gate.clear()
    loop = BackgroundLoop("under-test", rounds, LONG)
    loop.start()
    try:
        await eventually(lambda: rounds.inside, what="a round under way")
        loop.wake()
        rounds.gate.set()
        await eventually(lambda: rounds.count == 2, what="the round the wake asked for")
    finally:
        await loop.stop()


async def test_a_round_with_more_to_do_is_followed_at_once() -> None:
    rounds = Rounds(more=True)
    loop = BackgroundLoop("under-test", rounds, LONG)
    loop.start()
    try:
        await eventually(lambda: rounds.count >= 5, what="rounds one after another")
    finally:
        await loop.stop()


async def test_a_failing_round_is_reported_and_the_loop_goes_on() -> None:
    failures: list[Exception] = []
    attempts = 0

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("the database is away")

    loop = BackgroundLoop("under-test", flaky, 0.01, on_error=failures.append)
    loop.start()
    try:
        await eventually(lambda: attempts >= 2, what="a round after the failure")
    finally:
        await loop.stop()
    assert [str(e) for e in failures] == ["the database is away"]


async def test_start_twice_runs_one_task_and_stop_before_start_does_nothing() -> None:
    rounds = Rounds()
    loop = BackgroundLoop("under-test", rounds, LONG)
    await loop.stop()
    loop.start()
    loop.start()
    await eventually(lambda: rounds.count == 1, what="the first round")
    named = [t for t in asyncio.all_tasks() if t.get_name() == "under-test"]
    assert len(named) == 1
    await loop.stop()
    assert not loop.running
    loop.start()
    await eventually(lambda: rounds.count == 2, what="a round after starting again")
    await loop.stop()
