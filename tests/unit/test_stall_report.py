"""The report printed when a test nears its time limit names each task and where it waits."""

import asyncio
import threading
from contextlib import suppress

import pytest

from tests.support.stall_report import running_loop_of, tasks_report

pytestmark = pytest.mark.unit


async def test_the_running_loop_is_found_on_the_thread_stack_from_another_thread() -> None:
    main = threading.get_ident()
    found = await asyncio.to_thread(running_loop_of, main)
    assert found is asyncio.get_running_loop()


def test_no_loop_is_found_on_a_thread_that_runs_none() -> None:
    assert running_loop_of(threading.get_ident()) is None


async def test_the_report_shows_each_task_and_the_line_it_waits_on() -> None:
    never = asyncio.Event()
    started = asyncio.Event()

    async def waiting_for_nothing() -> None:
        started.set()
        await never.wait()

    task = asyncio.create_task(waiting_for_nothing(), name="waiter-under-test")
    await started.wait()
    try:
        report = tasks_report(asyncio.get_running_loop())
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    assert "waiter-under-test" in report
    assert "await never.wait()" in report
