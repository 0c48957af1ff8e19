"""When a test nears its time limit, print what each of its asyncio tasks is waiting on.

pytest-timeout prints the threads' stacks, which for an async test show only the event loop
turning; the tasks' own stacks are what tell a hang apart. The report is written to the
test's captured stderr, so it appears with the failure when the limit is then reached.
"""

import asyncio
import faulthandler
import io
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

REPORT_AT_FRACTION = 0.85
"""Report once this fraction of the test's time limit has passed."""
LOOP_ANSWER_SECONDS = 3.0
"""How long the loop has to run the report before it is taken to be blocked."""


def time_limit(item: pytest.Item) -> float | None:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    configured = item.config.getini("timeout")
    return float(configured) if configured else None


def running_loop_of(thread_id: int) -> asyncio.AbstractEventLoop | None:
    """The event loop the thread ``thread_id`` is running, found on its stack."""
    frame: FrameType | None = sys._current_frames().get(thread_id)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, asyncio.AbstractEventLoop) and candidate.is_running():
            return candidate
        frame = frame.f_back
    return None


def tasks_report(loop: asyncio.AbstractEventLoop) -> str:
    out = io.StringIO()
    tasks = asyncio.all_tasks(loop)
    out.write(f"\n+++++ {len(tasks)} asyncio tasks near the time limit +++++\n")
    for task in sorted(tasks, key=lambda t: t.get_name()):
        out.write(f"--- {task!r}\n")
        task.print_stack(limit=25, file=out)
    return out.getvalue()


def report_stall(nodeid: str, thread_id: int) -> None:
    stream = sys.stderr
    loop = running_loop_of(thread_id)
    answered = threading.Event()

    def from_the_loop() -> None:
        stream.write(tasks_report(asyncio.get_running_loop()))
        stream.flush()
        answered.set()

    if loop is not None:
        loop.call_soon_threadsafe(from_the_loop)
        if answered.wait(LOOP_ANSWER_SECONDS):
            return
        stream.write(f"\n+++++ the event loop of {nodeid} did not answer: it is blocked +++++\n")
    stream.flush()
    faulthandler.dump_traceback(file=stream, all_threads=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    limit = time_limit(item)
    if not limit:
        yield
        return
    finished = threading.Event()
    main = threading.get_ident()

    def watch() -> None:
        if not finished.wait(limit * REPORT_AT_FRACTION):
            report_stall(item.nodeid, main)

    watcher = threading.Thread(target=watch, name="stall-report", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
