"""Storing the examples of a ``POST /v1/examples`` body: all, or none if any is invalid.

The body is parsed against its contract, every example is checked and counted (so every
problem is reported), and the rows of a valid body are encoded and hashed, then inserted in
one transaction. All but the insert is CPU work: large bodies are handed, as the bytes that
arrived, to worker processes (:mod:`intake_workers`), so the service's event loop keeps
answering and concurrent requests use every core. Into a SQLite file the workers insert the
rows too; into another database the service process inserts what comes back.
"""

import asyncio
import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from contracts.api.datasets import ExampleBatch, ExampleIn
from contracts.api.errors import FieldError
from libs.storage import Database
from services.exporter.body_schema import CommonFirstValidator, defaults_of
from services.exporter.candidates import sqlite_file
from services.exporter.collector import collector_paused
from services.exporter.examples import (
    IdSeries,
    Provenance,
    ReadyRows,
    example_rows,
    insert_ready,
    insert_ready_with_driver,
    ready_rows,
    stored_already,
)
from services.exporter.ingest import CheckedRow, check_records
from services.exporter.intake_workers import (
    IntakeWorkers,
    worker_database,
    worker_tools,
    write_turn,
)
from services.exporter.tokens import TokenCounter
from services.exporter.validation import Rules

EXAMPLES_BODY: TypeAdapter[ExampleIn | ExampleBatch] = TypeAdapter(ExampleIn | ExampleBatch)
"""The body's contract (its schema is the API's)."""
BODY_AS_DICTS = CommonFirstValidator(ExampleBatch, ExampleIn, ExampleBatch)
"""The same rules, validating into dicts (see :mod:`body_schema`); batches are tried first."""
EXAMPLE_DEFAULTS = {k: v for k, v in defaults_of(ExampleIn).items() if k != "metadata"}
DEFAULT_MIN_WORKER_BYTES = 128 * 1024
"""Smaller bodies (a few hundred examples) are checked in the service process: handing them
over would cost more than checking them."""


@dataclass
class PreparedBatch:
    """A checked body: what was wrong with the request itself, else the rows with something
    to say (errors or warnings, their records dropped), and the rows to insert when no row
    has an error."""

    checked: list[CheckedRow] = field(default_factory=list)
    ready: ReadyRows | None = None
    request_errors: list[FieldError] = field(default_factory=list)
    is_batch: bool = False
    """Whether the body was ``{"examples": [...]}`` rather than one example."""
    prepared_by: int = field(default_factory=os.getpid)
    """The id of the process that checked the body."""
    maybe_stored: bool = False
    """Whether a worker that stopped before answering may have stored these rows."""


def example_record(example: dict[str, Any]) -> dict[str, Any]:
    """The chat record of an example validated by :data:`BODY_AS_DICTS`: its system prompt as
    the first message, absent fields at their contract defaults, ``None`` values left out.
    The validator gives keys in the contract's order, whatever order the client wrote them in,
    so the stored JSON and its hash do not depend on it."""
    messages = [
        message
        if None not in message.values()
        else {key: value for key, value in message.items() if value is not None}
        for message in example["messages"]
    ]
    system = example.get("system")
    if system:
        messages.insert(0, {"role": "system", "content": system})
    record = EXAMPLE_DEFAULTS | {
        key: value
        for key, value in example.items()
        if value is not None and key != "system" and key != "messages"
    }
    record["messages"] = messages
    return record


def request_errors(error: ValidationError) -> list[FieldError]:
    """A body's contract violations, each with its dotted field."""
    return [
        FieldError(
            field=".".join(str(part) for part in problem["loc"]) or None,
            code=str(problem["type"]),
            message=str(problem["msg"]),
        )
        for problem in error.errors()
    ]


def prepare_batch(
    records: list[tuple[int | None, Any]],
    provenance: Provenance,
    rules: Rules,
    counter: TokenCounter,
    dialect: str,
    ids: IdSeries | None = None,
) -> PreparedBatch:
    """Check and count every record; if none is invalid, make its rows for ``dialect``
    (with ids from ``ids``, a new series if not given)."""
    checked = check_records(records, rules, counter)
    noted = [
        CheckedRow(c.line, None, c.verdict, c.tokens)
        for c in checked
        if c.verdict.errors or c.verdict.warnings
    ]
    if any(c.verdict.errors for c in noted):
        return PreparedBatch(noted)
    rows = example_rows(
        ((c.record, c.tokens, c.verdict.shape) for c in checked if c.record),
        provenance,
        counter.name,
        ids,
    )
    return PreparedBatch(noted, ready_rows(rows, dialect))


def prepare_body(
    body: bytes,
    provenance: Provenance,
    rules: Rules,
    counter: TokenCounter,
    dialect: str,
    ids: IdSeries | None = None,
) -> PreparedBatch:
    """Parse a ``POST /v1/examples`` body (one example or a batch), then :func:`prepare_batch`."""
    with collector_paused():
        return _prepare_body(body, provenance, rules, counter, dialect, ids)


def _prepare_body(
    body: bytes,
    provenance: Provenance,
    rules: Rules,
    counter: TokenCounter,
    dialect: str,
    ids: IdSeries | None,
) -> PreparedBatch:
    try:
        parsed = BODY_AS_DICTS.validate_json(body)
    except ValidationError as error:
        return PreparedBatch(request_errors=request_errors(error))
    is_batch = "examples" in parsed  # one example may not have that field
    examples = parsed["examples"] if is_batch else [parsed]
    records: list[tuple[int | None, Any]] = [
        (number, example_record(example)) for number, example in enumerate(examples, 1)
    ]
    prepared = prepare_batch(records, provenance, rules, counter, dialect, ids)
    prepared.is_batch = is_batch
    return prepared


def prepare_body_in_worker(
    body: bytes, provenance: Provenance, dialect: str, ids: IdSeries, store_in: str | None
) -> PreparedBatch:
    """:func:`prepare_body` in a worker process, with the rules and tokenizer it started
    with; a valid body's rows are inserted here too when ``store_in`` names the SQLite file
    they go to (and can be: see :func:`ready_rows`)."""
    rules, counter = worker_tools()
    prepared = prepare_body(body, provenance, rules, counter, dialect, ids)
    ready = prepared.ready
    if store_in is not None and ready is not None and ready.sqlite_parameters:
        with write_turn():
            insert_ready_with_driver(worker_database(store_in), ready)
        prepared.ready = ReadyRows(ready.ids, stored=True)
    return prepared


@dataclass
class Intake:
    """Where bodies are checked: in this process, or by ``workers`` worker processes for
    bodies of at least ``min_worker_bytes`` (``workers=0``: always here)."""

    rules: Rules
    counter: TokenCounter
    tokenizer: Path | None = None
    workers: int = 0
    min_worker_bytes: int = DEFAULT_MIN_WORKER_BYTES
    _pool: IntakeWorkers | None = field(default=None, init=False, repr=False)
    _write_lock: asyncio.Lock | None = field(default=None, init=False, repr=False)
    _closing: list[asyncio.Future[None]] = field(default_factory=list, init=False, repr=False)

    async def prepare(
        self,
        body: bytes,
        provenance: Provenance,
        dialect: str,
        ids: IdSeries | None = None,
        store_in: str | None = None,
    ) -> PreparedBatch:
        """Check ``body`` (rows with ids from ``ids``); a worker that checks it also stores
        its rows if ``store_in`` names their SQLite file. If the worker stops before it
        answers, the body is checked here, and ``maybe_stored`` says it may be stored."""
        ids = ids or IdSeries.new()
        pool = self._pool_for(len(body))
        if pool is not None:
            prepared = await pool.run(
                prepare_body_in_worker, body, provenance, dialect, ids, store_in
            )
            if prepared is not None:
                return prepared
        prepared = prepare_body(body, provenance, self.rules, self.counter, dialect, ids)
        prepared.maybe_stored = pool is not None and store_in is not None
        return prepared

    def _pool_for(self, size: int) -> IntakeWorkers | None:
        """The worker pool once it has started, for a body this large; starts it the first
        time one is needed (that body is checked here meanwhile), and again after a worker
        died."""
        if self.workers <= 0 or size < self.min_worker_bytes:
            return None
        if self._pool is None or self._pool.broken:
            if self._pool is not None:
                self._closing.append(asyncio.ensure_future(self._pool.close()))
            self._pool = IntakeWorkers(self.workers, self.tokenizer, self.rules)
        return self._pool if self._pool.started() else None

    def export_workers(self) -> IntakeWorkers | None:
        """The worker processes, for an export to be written in shards, if they are running.

        An export does not start them: a service that only exports small datasets keeps
        its memory, and its exports are written here."""
        return self._pool if self.workers_started() else None

    def start_workers(self) -> None:
        """Start the worker processes now, if there are to be any, rather than with the
        first large body."""
        self._pool_for(self.min_worker_bytes)

    def workers_started(self) -> bool:
        """Whether large bodies go to worker processes now."""
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


@dataclass
class StoredExamples:
    prepared: PreparedBatch
    ids: list[str] = field(default_factory=list)
    """Ids of the stored examples in request order; empty if the body was refused."""

    @property
    def ok(self) -> bool:
        return self.prepared.ready is not None


async def store_examples(
    database: Database, intake: Intake, body: bytes, provenance: Provenance
) -> StoredExamples:
    """Check the examples of ``body`` and store them all in one transaction, or none.

    A batch whose worker may have stored it before it stopped (see :meth:`Intake.prepare`)
    has the same ids when checked here: it is stored unless its first id already is."""
    prepared = await intake.prepare(
        body, provenance, database.dialect, IdSeries.new(), sqlite_file(database)
    )
    return await store_prepared(database, intake, prepared)


async def store_prepared(
    database: Database, intake: Intake, prepared: PreparedBatch
) -> StoredExamples:
    """Store the rows of a checked body, unless it was refused or they are stored already."""
    ready = prepared.ready
    if ready is None:
        return StoredExamples(prepared)
    if not ready.stored:
        turn = intake.write_lock() if database.dialect == "sqlite" else nullcontext()
        async with turn, database.transaction() as session:
            if not (prepared.maybe_stored and await stored_already(session, ready.ids[0])):
                await insert_ready(session, ready)
    return StoredExamples(prepared, ready.ids)


__all__ = [
    "EXAMPLES_BODY",
    "Intake",
    "PreparedBatch",
    "StoredExamples",
    "example_record",
    "prepare_batch",
    "prepare_body",
    "store_examples",
    "store_prepared",
]
