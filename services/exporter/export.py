"""The export pipeline: filter → validate → de-duplicate → split → format → write → publish.

Rows are streamed from the database in batches ordered by normalised hash and written by a
:class:`DatasetWriter` in a worker thread, so memory stays flat and the event loop keeps
serving. The dataset version row and its ``dataset.exported`` event are committed together.
"""

import asyncio
import json
import sqlite3
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from contracts.api.datasets import DatasetManifest, ExportFilters, ExternalSource
from contracts.envelope import new_message_id, utc_now
from contracts.events import DatasetExported, SplitArtifact
from libs.artifacts import ArtifactInfo, LocalArtifactStore
from libs.messaging import Bus, OutboxRelay, add_to_outbox, claim_message
from libs.storage import Database
from libs.storage.database import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB
from services.exporter.external import (
    ExternalImportFailed,
    ImportSummary,
    import_external,
)
from services.exporter.tables import ExporterDatasetVersion, ExporterExample, ExporterExport
from services.exporter.tokens import TokenCounter
from services.exporter.validation import Rules
from services.exporter.writer import DatasetWriter, StoredExample

READ_BATCH = 5000
VERSION_ATTEMPTS = 5
EXPORT_CONSUMER = "exporter.export"


class ExportRejected(Exception):
    """Too few examples survived; the message says how many and why the others did not."""

    def __init__(self, message: str, considered: int, excluded: dict[str, int]) -> None:
        super().__init__(message)
        self.considered = considered
        self.excluded = excluded


@dataclass(frozen=True)
class ExportPlan:
    tenant: str
    name: str
    format: str
    filters: ExportFilters = field(default_factory=ExportFilters)
    test_fraction: float = 0.1
    min_examples: int = 10
    warn_examples: int = 100
    rules: Rules = field(default_factory=Rules)
    external: ExternalSource | None = None


@dataclass(frozen=True)
class ExportTools:
    """What an export needs from its service."""

    database: Database
    artifacts: LocalArtifactStore
    bus: Bus
    outbox: OutboxRelay | None
    counter: TokenCounter
    external_databases: dict[str, str] = field(default_factory=dict)
    external_timeout_seconds: float = 30.0


def candidates(tenant: str, filters: ExportFilters, extra: bool = True) -> Select[*tuple[Any, ...]]:
    """The tenant's live examples matching ``filters``, duplicates adjacent; without
    ``extra``, that column is left out (read as ``None``: only preference formats need it)."""
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


def rejection(plan: ExportPlan, writer: DatasetWriter) -> ExportRejected:
    reasons = ", ".join(f"{code}: {n}" for code, n in writer.excluded.most_common()) or "none"
    return ExportRejected(
        f"only {writer.kept} usable examples for `{plan.name}` (at least {plan.min_examples} "
        f"are needed): {writer.considered} matched the filters, excluded by reason: {reasons}. "
        "Loosen the filters, add examples, or fix the excluded ones.",
        writer.considered,
        dict(writer.excluded),
    )


async def next_version(tools: ExportTools, tenant: str, name: str) -> int:
    async with tools.database.session() as session:
        statement = select(func.max(ExporterDatasetVersion.version)).where(
            col(ExporterDatasetVersion.tenant) == tenant,
            col(ExporterDatasetVersion.dataset) == name,
        )
        latest = (await session.execute(statement)).scalar_one_or_none()
    return int(latest or 0) + 1


async def store_files(tools: ExportTools, writer: DatasetWriter) -> dict[str, ArtifactInfo | None]:
    stored: dict[str, ArtifactInfo | None] = {}
    for split, path in writer.paths.items():
        empty = split == "test" and writer.splits["test"].examples == 0
        stored[split] = None if empty else await tools.artifacts.put_file(path)
    return stored


def build_manifest(
    plan: ExportPlan,
    version: int,
    writer: DatasetWriter,
    stored: dict[str, ArtifactInfo | None],
    tokenizer: str,
) -> DatasetManifest:
    lineage = stored["lineage"]
    assert lineage is not None
    warnings = dict(writer.warnings)
    if writer.kept < plan.warn_examples:
        warnings["few_examples"] = writer.kept
    splits = {}
    for name, accumulator in writer.splits.items():
        info = stored[name]
        splits[name] = accumulator.summary(
            info.sha256 if info else None, info.uri if info else None, info.size if info else 0
        )
    return DatasetManifest(
        dataset=plan.name,
        version=version,
        tenant=plan.tenant,
        format=plan.format,
        created_at=utc_now(),
        filters=plan.filters,
        external=plan.external,
        test_fraction=plan.test_fraction,
        context_length=plan.rules.context_length,
        tokenizer=tokenizer,
        considered=writer.considered,
        excluded=dict(writer.excluded.most_common()),
        warnings=warnings,
        splits=splits,
        lineage_sha256=lineage.sha256,
        lineage_uri=lineage.uri,
    )


def exported_event(
    row: ExporterDatasetVersion, manifest: DatasetManifest, manifest_info: ArtifactInfo
) -> DatasetExported:
    splits = {
        name: SplitArtifact(
            sha256=stats.artifact_sha256,
            uri=stats.artifact_uri,
            rows=stats.examples,
            tokens=stats.tokens,
        )
        for name, stats in manifest.splits.items()
        if stats.artifact_sha256 and stats.artifact_uri
    }
    excluded = manifest.excluded
    duplicates = excluded.get("duplicate", 0) + excluded.get("near_duplicate", 0)
    filters = {
        k: (str(v) if v is not None and not isinstance(v, int | float | bool) else v)
        for k, v in manifest.filters.model_dump().items()
    }
    return DatasetExported(
        tenant=row.tenant,
        dataset=row.dataset,
        version=row.version,
        dataset_id=row.id,
        artifact_sha256=splits["train"].sha256,
        artifact_uri=splits["train"].uri,
        format=manifest.format,
        train_rows=row.train_rows,
        test_rows=row.test_rows,
        rejected_rows=sum(excluded.values()) - duplicates,
        duplicate_rows=duplicates,
        token_count=manifest.splits["train"].tokens,
        base_model=manifest.tokenizer,
        splits=splits,
        manifest_sha256=manifest_info.sha256,
        manifest_uri=manifest_info.uri,
        filters=filters,
    )


async def record_version(
    tools: ExportTools, export_id: str, manifest: DatasetManifest, manifest_info: ArtifactInfo
) -> ExporterDatasetVersion | None:
    """The version row, its event and the export's status in one transaction; ``None`` if
    already exported."""
    train, test = manifest.splits["train"], manifest.splits["test"]
    row = ExporterDatasetVersion(
        id=export_id,
        tenant=manifest.tenant,
        dataset=manifest.dataset,
        version=manifest.version,
        format=manifest.format,
        train_rows=train.examples,
        test_rows=test.examples,
        train_sha256=train.artifact_sha256 or "",
        test_sha256=test.artifact_sha256,
        manifest_sha256=manifest_info.sha256,
        manifest=manifest.model_dump(mode="json"),
        created_at=manifest.created_at,
    )
    async with tools.database.transaction() as session:
        if not await claim_message(session, EXPORT_CONSUMER, export_id):
            return None
        session.add(row)
        add_to_outbox(session, tools.bus, exported_event(row, manifest, manifest_info))
        await session.execute(
            update(ExporterExport)
            .where(col(ExporterExport.id) == export_id)
            .values(
                status="succeeded",
                version=row.version,
                error=None,
                finished_at=utc_now(),
                lease_owner=None,
            )
        )
    if tools.outbox is not None:
        tools.outbox.notify()
    return row


def external_url(tools: ExportTools, external: ExternalSource) -> str:
    """The URL of a configured external database; raises if it is not configured."""
    url = tools.external_databases.get(external.database)
    if url is None:
        known = ", ".join(sorted(tools.external_databases)) or "none is configured"
        raise ExternalImportFailed(
            f"unknown external database `{external.database}` (known: {known}); add it "
            "to TUNELOOP_EXPORTER_EXTERNAL_DATABASES"
        )
    return url


async def import_first(tools: ExportTools, plan: ExportPlan) -> ImportSummary | None:
    """Import the plan's external rows, if it names an external database."""
    if plan.external is None:
        return None
    url = external_url(tools, plan.external)
    return await import_external(
        tools.database, url, plan.external, plan.tenant, tools.external_timeout_seconds
    )


async def run_export(
    tools: ExportTools, plan: ExportPlan, export_id: str | None = None
) -> ExporterDatasetVersion | None:
    """Export ``plan`` as the next version of its dataset; ``None`` if ``export_id`` was done.

    Two exports of one dataset at once both succeed: the one that loses the race for a
    version number takes the next one.
    """
    export_id = export_id or new_message_id()
    imported = await import_first(tools, plan)
    if imported is not None:
        plan = replace(plan, filters=plan.filters.model_copy(update={"source": imported.source}))
    with tempfile.TemporaryDirectory(prefix="tuneloop-export-") as directory:
        writer = DatasetWriter(
            Path(directory), plan.format, plan.rules, tools.counter, plan.test_fraction
        )
        if imported is not None:
            writer.excluded.update(imported.refused)
            writer.considered += sum(imported.refused.values())
        try:
            rows = candidates(plan.tenant, plan.filters, extra=writer.preferences)
            await stream_into(writer, tools.database, rows)
        finally:
            writer.close()
        if writer.kept < plan.min_examples or writer.splits["train"].examples == 0:
            raise rejection(plan, writer)
        stored = await store_files(tools, writer)
    for attempt in range(VERSION_ATTEMPTS):
        version = await next_version(tools, plan.tenant, plan.name)
        manifest = build_manifest(plan, version, writer, stored, tools.counter.name)
        encoded = manifest.model_dump_json(indent=2).encode()
        manifest_info = await tools.artifacts.put_bytes(encoded)
        try:
            return await record_version(tools, export_id, manifest, manifest_info)
        except IntegrityError:
            if attempt == VERSION_ATTEMPTS - 1:
                raise
    return None  # pragma: no cover - the loop returns or raises


__all__ = [
    "ExportPlan",
    "ExportRejected",
    "ExportTools",
    "ExternalImportFailed",
    "candidates",
    "external_url",
    "run_export",
]
