"""Importing rated examples from a query against a user's own PostgreSQL database.

The connection is read-only (a read-only transaction), the query is parameterised (``$1``…
with separate values, never formatted into the text) and time-limited (``statement_timeout``),
and rows are fetched through a cursor so a large result never sits in memory whole.
"""

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from contracts.api.datasets import ExternalSource
from libs.storage import Database
from services.exporter.examples import Provenance, example_row
from services.exporter.tables import ExporterExample

FETCH_BATCH = 1000
FIELDS = ("id", "prompt", "response", "messages", "system", "rating", "gold_star")
FIELDS_PROVENANCE = ("domain", "task_type", "owner")


class ExternalImportFailed(Exception):
    """The external database refused the connection or the query; the message says why."""


@dataclass
class ImportSummary:
    source: str
    imported: int = 0
    refused: Counter[str] = field(default_factory=Counter)


def source_name(external: ExternalSource) -> str:
    return f"postgres:{external.database}"


def _column(row: Mapping[str, Any], columns: dict[str, str], name: str) -> Any:
    return row.get(columns.get(name, name))


def _messages(row: Mapping[str, Any], columns: dict[str, str]) -> list[dict[str, Any]] | str:
    raw = _column(row, columns, "messages")
    if raw is not None:
        value = json.loads(raw) if isinstance(raw, str) else raw
        return value if isinstance(value, list) else "invalid_messages"
    prompt, response = _column(row, columns, "prompt"), _column(row, columns, "response")
    if prompt is None or response is None:
        return "missing_field"
    messages = [{"role": "user", "content": str(prompt)}]
    messages.append({"role": "assistant", "content": str(response)})
    system = _column(row, columns, "system")
    return [{"role": "system", "content": str(system)}, *messages] if system else messages


def external_record(row: Mapping[str, Any], external: ExternalSource) -> dict[str, Any] | str:
    """The chat record of one result row, or the code of why it cannot be one."""
    columns = external.columns
    messages = _messages(row, columns)
    if isinstance(messages, str):
        return messages
    rating = _column(row, columns, "rating")
    if rating is not None and not (isinstance(rating, int) and 1 <= rating <= 5):
        return "invalid_rating"
    record: dict[str, Any] = {
        "messages": messages,
        "rating": rating,
        "gold_star": bool(_column(row, columns, "gold_star") or False),
    }
    for name in FIELDS_PROVENANCE:
        value = _column(row, columns, name)
        record[name] = str(value) if value is not None else None
    key = _column(row, columns, "id")
    if key is not None:
        record["external_key"] = f"{external.database}:{key}"
    return record


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _insert(database: Database, rows: list[dict[str, Any]]) -> None:
    insert = postgresql_insert if database.dialect == "postgresql" else sqlite_insert
    statement = insert(ExporterExample).on_conflict_do_nothing(
        index_elements=["tenant", "external_key"]
    )
    async with database.transaction() as session:
        await session.execute(statement, rows)


async def import_external(
    database: Database, url: str, external: ExternalSource, tenant: str, timeout_seconds: float
) -> ImportSummary:
    """Copy the query's rows into the tenant's examples; rows imported before are skipped."""
    import asyncpg

    summary = ImportSummary(source_name(external))
    provenance = Provenance(tenant=tenant, source=summary.source)
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise ExternalImportFailed(
            f"cannot connect to external database `{external.database}`: {exc}"
        ) from None
    try:
        async with connection.transaction(readonly=True, isolation="repeatable_read"):
            await connection.execute(f"SET LOCAL statement_timeout = {int(timeout_seconds * 1000)}")
            batch: list[dict[str, Any]] = []
            cursor = connection.cursor(external.query, *external.parameters, prefetch=FETCH_BATCH)
            async for row in cursor:
                record = external_record(row, external)
                if isinstance(record, str):
                    summary.refused[f"import_{record}"] += 1
                    continue
                batch.append(example_row(record, provenance))
                if len(batch) >= FETCH_BATCH:
                    await _insert(database, batch)
                    summary.imported += len(batch)
                    batch = []
            if batch:
                await _insert(database, batch)
                summary.imported += len(batch)
    except asyncpg.PostgresError as exc:
        raise ExternalImportFailed(
            f"the query on external database `{external.database}` failed: "
            f"{type(exc).__name__}: {exc}. Check the query, its parameters and the column names."
        ) from None
    finally:
        await connection.close()
    return summary


__all__ = [
    "ExternalImportFailed",
    "ImportSummary",
    "external_record",
    "import_external",
    "source_name",
]
