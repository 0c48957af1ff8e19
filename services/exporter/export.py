"""The export pipeline: filter → validate → de-duplicate → split → format → write → publish.

Rows are streamed from the database in batches ordered by normalised hash and written by a
:class:`DatasetWriter` in a worker thread, so memory stays flat and the event loop keeps
serving. The dataset version row and its ``dataset.exported`` event are committed together.
"""

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from contracts.api.datasets import DatasetManifest, ExportFilters, ExternalSource
from contracts.envelope import new_message_id, utc_now
from contracts.events import DatasetExported, SplitArtifact
from libs.artifacts import ArtifactInfo, LocalArtifactStore
from libs.messaging import Bus, OutboxRelay, add_to_outbox, claim_message
from libs.storage import Database
from services.exporter.candidates import EVERY_HASH, HashRange, candidates, stream_into
from services.exporter.export_shards import write_in_shards
from services.exporter.external import (
    ExternalImportFailed,
    ImportSummary,
    import_external,
)
from services.exporter.intake_workers import IntakeWorkers
from services.exporter.tables import ExporterDatasetVersion, ExporterExport
from services.exporter.tokens import TokenCounter
from services.exporter.validation import Rules
from services.exporter.writer import DatasetWriter

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


async def write_rows(
    writer: DatasetWriter, database: Database, plan: ExportPlan, workers: IntakeWorkers | None
) -> None:
    """Every candidate row of ``plan``, into ``writer``: by the workers if they can, else
    streamed here."""

    def rows_in(hashes: HashRange) -> Select[Any]:
        return candidates(plan.tenant, plan.filters, extra=writer.preferences, hashes=hashes)

    if workers is not None and await write_in_shards(writer, workers, database, rows_in):
        return
    await stream_into(writer, database, rows_in(EVERY_HASH))


async def run_export(
    tools: ExportTools,
    plan: ExportPlan,
    export_id: str | None = None,
    workers: IntakeWorkers | None = None,
) -> ExporterDatasetVersion | None:
    """Export ``plan`` as the next version of its dataset; ``None`` if ``export_id`` was done.

    With ``workers``, the rows are written in shards by those processes when they can be
    (:mod:`export_shards`), else here. Two exports of one dataset at once both succeed: the
    one that loses the race for a version number takes the next one.
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
            await write_rows(writer, tools.database, plan, workers)
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
