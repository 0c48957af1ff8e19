"""Writing an export in shards, one per intake worker process, then joining them in order.

Rows are read in normalised-hash order, and duplicates share their normalised hash, so the
hash space cut into consecutive ranges gives shards that de-duplicate and split on their own:
each worker reads its range from the SQLite file and writes its own files, and the service
process appends them one after the other and adds up their counts. The files are byte for
byte those of one writer reading every row (tested).

Only exports from a SQLite file are written this way, and only while the workers are up;
if a worker dies meanwhile or cannot count with the service's tokenizer, nothing of the
shards is kept and the export is written in the service process instead.
"""

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select

from libs.storage import Database
from services.exporter.candidates import (
    EVERY_HASH,
    HashRange,
    driver_query,
    read_sqlite_into,
    sqlite_file,
)
from services.exporter.intake_workers import IntakeWorkers, worker_tools
from services.exporter.validation import Rules
from services.exporter.writer import DatasetWriter, WriterPart

RANGE_DIGITS = 4
"""Shard bounds are this many leading hex digits of the normalised hash."""


def shard_ranges(count: int) -> list[HashRange]:
    """``count`` consecutive ranges of normalised hashes covering them all, of equal width."""
    if count <= 1:
        return [EVERY_HASH]
    space = 16**RANGE_DIGITS
    bounds: list[str | None] = [f"{i * space // count:0{RANGE_DIGITS}x}" for i in range(1, count)]
    return list(zip([None, *bounds], [*bounds, None], strict=True))


@dataclass(frozen=True)
class ShardJob:
    """What a worker needs to write one shard."""

    database: str
    sql: str
    params: list[Any]
    directory: Path
    format: str
    rules: Rules
    test_fraction: float
    counter: str
    """The name of the token counter the export counts with: the worker's must be it."""


def write_shard(job: ShardJob) -> WriterPart | None:
    """In an intake worker: read one shard's rows and write them; ``None`` if this worker
    counts tokens with another tokenizer than the export."""
    _, counter = worker_tools()
    if counter.name != job.counter:
        return None
    job.directory.mkdir(parents=True, exist_ok=True)
    writer = DatasetWriter(job.directory, job.format, job.rules, counter, job.test_fraction)
    try:
        read_sqlite_into(writer, job.database, job.sql, job.params)
    finally:
        writer.close()
    return writer.part()


async def write_in_shards(
    writer: DatasetWriter,
    workers: IntakeWorkers,
    database: Database,
    rows_in: Callable[[HashRange], Select[Any]],
) -> bool:
    """Write every row of ``rows_in`` into ``writer`` through the workers, a shard each;
    ``False`` (and nothing written) if the database is not a SQLite file or the workers
    could not."""
    path = sqlite_file(database)
    if path is None:
        return False
    with tempfile.TemporaryDirectory(prefix="tuneloop-shards-") as directory:
        jobs = []
        for index, hashes in enumerate(shard_ranges(workers.size)):
            sql, params = driver_query(database, rows_in(hashes))
            jobs.append(
                ShardJob(
                    database=path,
                    sql=sql,
                    params=params,
                    directory=Path(directory) / f"shard-{index}",
                    format=writer.format,
                    rules=writer.rules,
                    test_fraction=writer.test_fraction,
                    counter=writer.counter.name,
                )
            )
        parts = await asyncio.gather(*(workers.run(write_shard, job) for job in jobs))
        if any(part is None for part in parts):
            return False
        await asyncio.to_thread(_absorb_all, writer, [p for p in parts if p is not None])
    return True


def _absorb_all(writer: DatasetWriter, parts: list[WriterPart]) -> None:
    for part in parts:
        writer.absorb(part)


__all__ = ["ShardJob", "shard_ranges", "write_in_shards", "write_shard"]
