"""Reading an export's candidate rows: the tenant's live examples matching its filters, in
normalised-hash order (duplicates adjacent), streamed into a :class:`DatasetWriter`.

From a SQLite file, rows are read with the driver itself; a range of normalised hashes
(``hashes``) selects one shard of them (:mod:`export_shards`).
"""

import asyncio
import json
import sqlite3
from typing import Any

from sqlalchemy import Select, null, select
from sqlmodel import col

from contracts.api.datasets import ExportFilters
from libs.storage import Database
from libs.storage.database import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB
from services.exporter.tables import ExporterExample
from services.exporter.writer import DatasetWriter, StoredExample

READ_BATCH = 5000
HashRange = tuple[str | None, str | None]
"""Normalised hashes from the first (included) to the second (excluded); ``None``: no end."""
EVERY_HASH: HashRange = (None, None)


def candidates(
    tenant: str, filters: ExportFilters, extra: bool = True, hashes: HashRange = EVERY_HASH
) -> Select[*tuple[Any, ...]]:
    """The tenant's live examples matching ``filters``, duplicates adjacent; without
    ``extra``, that column is left out (read as ``None``: only preference formats need it);
    only those whose normalised hash is in ``hashes``."""
    e = ExporterExample
    statement: Select[*tuple[Any, ...]] = select(
        col(e.id),
        col(e.messages),
        col(e.tools),
        col(e.rating),
        col(e.gold_star),
        col(e.domain),
        col(e.task_type),
        col(e.source),
        col(e.owner),
        col(e.content_hash),
        col(e.normalized_hash),
        col(e.token_count),
        col(e.token_counter),
        col(e.extra) if extra else null().label("extra"),
        col(e.message_count),
        col(e.prompt_chars),
        col(e.response_chars),
        col(e.system_prompt),
    ).where(col(e.tenant) == tenant, col(e.deleted_at).is_(None))
    if filters.min_rating is not None:
        statement = statement.where(col(e.rating) >= filters.min_rating)
    if filters.gold_star_only:
        statement = statement.where(col(e.gold_star).is_(True))
    for name in ("domain", "task_type", "source", "owner"):
        value = getattr(filters, name)
        if value is not None:
            statement = statement.where(getattr(e, name) == value)
    if filters.created_after is not None:
        statement = statement.where(col(e.created_at) >= filters.created_after)
    if filters.created_before is not None:
        statement = statement.where(col(e.created_at) < filters.created_before)
    low, high = hashes
    if low is not None:
        statement = statement.where(col(e.normalized_hash) >= low)
    if high is not None:
        statement = statement.where(col(e.normalized_hash) < high)
    return statement.order_by(col(e.normalized_hash), col(e.id))


def sqlite_file(database: Database) -> str | None:
    """The file of a SQLite database, ``None`` for other databases and in-memory ones."""
    url = database.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


def driver_query(database: Database, statement: Select[*tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """The SQL of ``statement`` for the database's driver and its parameters, each passed
    through its type's bind processor as SQLAlchemy would (timestamps become text)."""
    dialect = database.engine.dialect
    compiled = statement.compile(dialect=dialect)
    params = compiled.construct_params()
    values = []
    for name in compiled.positiontup or []:
        value = params[name]
        processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        values.append(processor(value) if processor is not None else value)
    return compiled.string, values


def read_sqlite_into(writer: DatasetWriter, path: str, sql: str, params: list[Any]) -> None:
    """Read rows with the driver and hand them to the writer batch by batch, in this thread.

    One thread both reads and writes: SQLite gives up Python's lock at every row it steps
    to, and a reader thread next to a busy writer thread would wait for it at each one."""
    connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        connection.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor = connection.execute(sql, params)
        while rows := cursor.fetchmany(READ_BATCH):
            writer.consume(stored_examples(rows))
    finally:
        connection.close()


def stored_examples(rows: list[tuple[Any, ...]]) -> list[StoredExample]:
    """Rows of :func:`candidates` as the SQLite driver returns them (``gold_star`` and
    ``system_prompt`` as 0 or 1, ``extra`` as JSON text)."""
    return [
        StoredExample(
            a, b, c, d, e == 1, f, g, h, i, j, k, m, n, json.loads(o) if o else None, p, q, r, t
        )
        for a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, t in rows
    ]


async def stream_into(
    writer: DatasetWriter, database: Database, statement: Select[*tuple[Any, ...]]
) -> None:
    """Stream the rows of ``statement`` into ``writer``, off the event loop.

    From a SQLite file, one worker thread reads them with the driver and writes them. From
    another database, the next batch is fetched while the writer works on the current one
    (in a thread); rows are read through a Core connection, plain tuples."""
    path = sqlite_file(database)
    if path is not None:
        sql, params = driver_query(database, statement)
        await asyncio.to_thread(read_sqlite_into, writer, path, sql, params)
        return
    async with database.engine.connect() as connection:
        result = await connection.stream(statement.execution_options(yield_per=READ_BATCH))
        writing: asyncio.Task[None] | None = None
        async for partition in result.partitions(READ_BATCH):
            rows = [StoredExample(*row) for row in partition]
            if writing is not None:
                await writing
            writing = asyncio.create_task(asyncio.to_thread(writer.consume, rows))
        if writing is not None:
            await writing


__all__ = [
    "EVERY_HASH",
    "HashRange",
    "candidates",
    "driver_query",
    "read_sqlite_into",
    "sqlite_file",
    "stream_into",
]
