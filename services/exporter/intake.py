"""Storing a batch of examples as ``POST /v1/examples`` receives them: all, or none if any
row is invalid.

Every row is checked and counted first, so every problem is reported; the rows of a valid
batch are encoded and hashed, then inserted in one transaction. Checking and preparing is
the CPU-heavy part: large batches do it in worker processes (:mod:`intake_workers`), so the
service's event loop keeps answering and concurrent requests use every core; the service
process only inserts what comes back.
"""

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libs.storage import Database
from services.exporter.examples import (
    Provenance,
    ReadyRows,
    example_rows,
    insert_ready,
    ready_rows,
)
from services.exporter.ingest import CheckedRow, check_records
from services.exporter.intake_workers import IntakeWorkers, worker_tools
from services.exporter.tokens import TokenCounter
from services.exporter.validation import Rules

DEFAULT_MIN_WORKER_BATCH = 256
"""Smaller batches are checked in the service process: handing them over costs more."""


@dataclass
class PreparedBatch:
    """A checked batch: the rows with something to say (errors or warnings, their records
    dropped), and the rows to insert when there is no error."""

    checked: list[CheckedRow]
    ready: ReadyRows | None
    prepared_by: int = field(default_factory=os.getpid)
    """The id of the process that checked the batch."""

    @property
    def ok(self) -> bool:
        return self.ready is not None


def prepare_batch(
    records: list[tuple[int | None, Any]],
    provenance: Provenance,
    rules: Rules,
    counter: TokenCounter,
    dialect: str,
) -> PreparedBatch:
    """Check and count every record; if none is invalid, make its rows for ``dialect``."""
    checked = check_records(records, rules, counter)
    noted = [c for c in checked if c.verdict.errors or c.verdict.warnings]
    if any(c.verdict.errors for c in noted):
        return PreparedBatch([_without_record(c) for c in noted], None)
    rows = example_rows(
        ((c.record, c.tokens) for c in checked if c.record), provenance, counter.name
    )
    return PreparedBatch([_without_record(c) for c in noted], ready_rows(rows, dialect))


def _without_record(row: CheckedRow) -> CheckedRow:
    return CheckedRow(row.line, None, row.verdict, row.tokens)


@dataclass
class Intake:
    """Where batches are checked: in this process, or by ``workers`` worker processes for
    batches of at least ``min_worker_batch`` rows (``workers=0``: always here)."""

    rules: Rules
    counter: TokenCounter
    tokenizer: Path | None = None
    workers: int = 0
    min_worker_batch: int = DEFAULT_MIN_WORKER_BATCH
    _pool: IntakeWorkers | None = field(default=None, init=False, repr=False)
    _write_lock: asyncio.Lock | None = field(default=None, init=False, repr=False)
    _closing: list[asyncio.Future[None]] = field(default_factory=list, init=False, repr=False)

    async def prepare(
        self, records: list[tuple[int | None, Any]], provenance: Provenance, dialect: str
    ) -> PreparedBatch:
        pool = self._pool_for(len(records))
        if pool is not None:
            prepared: PreparedBatch | None = await pool.run(
                prepare_in_worker, records, provenance, dialect
            )
            if prepared is not None:
                return prepared
        return prepare_batch(records, provenance, self.rules, self.counter, dialect)

    def _pool_for(self, size: int) -> IntakeWorkers | None:
        """The worker pool once it has started, for a batch this large; starts it the first
        time one is needed (that batch is checked here meanwhile)."""
        if self.workers <= 0 or size < self.min_worker_batch:
            return None
        if self._pool is None or self._pool.broken:
            if self._pool is not None:
                self._closing.append(asyncio.ensure_future(self._pool.close()))
            self._pool = IntakeWorkers(self.workers, self.tokenizer, self.rules)
        return self._pool if self._pool.started() else None

    def workers_started(self) -> bool:
        """Whether large batches go to worker processes now."""
        return self._pool is not None and self._pool.started()

    def worker_pids(self) -> list[int]:
        return self._pool.pids() if self._pool is not None else []

    def write_lock(self) -> asyncio.Lock:
        """Inserts of this process take turns on SQLite (it has one writer anyway): a turn
        starts the moment the last ends, where SQLite's busy handler would sleep."""
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    async def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
        await asyncio.gather(*self._closing)


def prepare_in_worker(
    records: list[tuple[int | None, Any]], provenance: Provenance, dialect: str
) -> PreparedBatch:
    """Run in a worker process with the rules and tokenizer it was started with."""
    rules, counter = worker_tools()
    return prepare_batch(records, provenance, rules, counter, dialect)


@dataclass
class StoredBatch:
    checked: list[CheckedRow]
    """The rows with errors or warnings, in batch order."""
    ids: list[str] = field(default_factory=list)
    """Ids of the stored examples in batch order; empty if the batch was refused."""
    prepared_by: int = 0
    """The id of the process that checked the batch."""

    @property
    def ok(self) -> bool:
        return all(c.verdict.ok for c in self.checked)


async def store_batch(
    database: Database,
    intake: Intake,
    records: list[tuple[int | None, Any]],
    provenance: Provenance,
) -> StoredBatch:
    """Check ``records`` and store them all in one transaction, or none of them."""
    prepared = await intake.prepare(records, provenance, database.dialect)
    if prepared.ready is None:
        return StoredBatch(prepared.checked, prepared_by=prepared.prepared_by)
    if database.dialect == "sqlite":
        async with intake.write_lock(), database.transaction() as session:
            await insert_ready(session, prepared.ready)
    else:
        async with database.transaction() as session:
            await insert_ready(session, prepared.ready)
    return StoredBatch(prepared.checked, prepared.ready.ids, prepared.prepared_by)


__all__ = ["Intake", "PreparedBatch", "StoredBatch", "prepare_batch", "store_batch"]
