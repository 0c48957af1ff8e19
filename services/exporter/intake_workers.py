"""Worker processes that check and prepare batches of examples for the intake.

Each worker loads the tokenizer once when it starts, then checks, counts and encodes the
batches it is handed. Into a SQLite file, a worker also inserts a valid batch itself, with
a connection of its own, taking turns with the other workers (SQLite has one writer): only
the ids and the rows with something to say come back. Otherwise the rows come back as the
database driver's parameters, for the service process to insert. Workers are spawned, not
forked: the service process runs threads (the database driver's, the tokenizer's) that a
fork would copy mid-flight.

A pool that cannot start (a tokenizer that does not load in a fresh process) is left
unused and said so once; a worker that dies later (killed, out of memory) breaks only the
batch it held, which the service then checks itself, and the next large batch starts a new
pool. No batch is lost either way.
"""

import asyncio
import gc
import logging
import multiprocessing
import signal
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

from libs.storage.database import SQLITE_BUSY_TIMEOUT_MS, configure_sqlite
from services.exporter.tokens import TokenCounter, load_token_counter
from services.exporter.validation import Rules

logger = logging.getLogger(__name__)
Result = TypeVar("Result")
_TOOLS: tuple[Rules, TokenCounter] | None = None
_WRITE_TURN: AbstractContextManager[Any] | None = None
_DATABASES: dict[str, sqlite3.Connection] = {}


def _start_worker(tokenizer: Path | None, rules: Rules, write_turn: Any) -> None:
    """Runs once in each new worker: the service process handles Ctrl-C, not its workers."""
    global _TOOLS, _WRITE_TURN
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _TOOLS = (rules, load_token_counter(tokenizer))
    _WRITE_TURN = write_turn
    # what is loaded now lives as long as the worker: the collector need not walk it again
    gc.freeze()


def worker_tools() -> tuple[Rules, TokenCounter]:
    """The rules and token counter of this worker process."""
    if _TOOLS is None:
        raise RuntimeError("worker_tools() is only available in an intake worker process")
    return _TOOLS


def write_turn() -> AbstractContextManager[Any]:
    """The lock the workers of one pool take turns on to write: the next worker starts the
    moment the last one commits, where SQLite's busy handler would sleep and poll."""
    if _WRITE_TURN is None:
        raise RuntimeError("write_turn() is only available in an intake worker process")
    return _WRITE_TURN


def worker_database(path: str) -> sqlite3.Connection:
    """This worker's connection to the SQLite file at ``path`` (opened once, autocommit
    mode: each write says where its transaction begins)."""
    connection = _DATABASES.get(path)
    if connection is None:
        connection = sqlite3.connect(
            path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        configure_sqlite(connection)
        _DATABASES[path] = connection
    return connection


def _started() -> bool:
    return _TOOLS is not None


class IntakeWorkers:
    """``workers`` spawned processes; usable once each has loaded its tokenizer."""

    def __init__(self, workers: int, tokenizer: Path | None, rules: Rules) -> None:
        self.size = workers
        context = multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(tokenizer, rules, context.Lock()),
        )
        # as many calls as workers, submitted at once, make the pool spawn all of them
        self._starting: list[Future[bool]] = [
            self._executor.submit(_started) for _ in range(workers)
        ]
        self.broken = False
        self._closed = False
        self._failed_reported = False

    def started(self) -> bool:
        """Whether every worker has started (False while starting, or if they could not)."""
        if self.broken or not all(f.done() for f in self._starting):
            return False
        failure = next((f.exception() for f in self._starting if f.exception()), None)
        if failure is not None:
            if not self._failed_reported:
                self._failed_reported = True
                logger.warning(
                    "intake worker processes could not start (%s); examples are checked in "
                    "the service process. Set TUNELOOP_EXPORTER_INTAKE_WORKERS=0 to skip them",
                    failure,
                )
            return False
        return True

    def pids(self) -> list[int]:
        """Process ids of the running workers."""
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    async def run(self, function: Callable[..., Result], *args: Any) -> Result | None:
        """``function(*args)`` in a worker; None if a worker died meanwhile or the workers
        are stopping (the caller then does the work itself)."""
        if self._closed:
            return None
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except BrokenProcessPool:
            if not self.broken:
                logger.warning(
                    "an intake worker process died; this batch is checked in the service "
                    "process and the next large one starts new workers"
                )
            self.broken = True
            return None

    async def close(self) -> None:
        """Stop every worker (work queued for them is dropped: its callers have gone)."""
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)


__all__ = ["IntakeWorkers", "worker_database", "worker_tools", "write_turn"]
