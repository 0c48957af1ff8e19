"""Stored examples: canonical JSON, content hashes for de-duplication, batched inserts.

Two hashes are kept per example: the exact content, and the content with whitespace
collapsed and case folded, so ``"Hello  World"`` and ``"hello world"`` are one example.
"""

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any, Self

import orjson
from sqlalchemy import Dialect, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import utc_now
from services.exporter.collector import collector_paused
from services.exporter.tables import ExporterExample, ExporterFeedback
from services.exporter.validation import PlainShape, content_text, plain_shape

INSERT_BATCH = 2000
_UNSET = object()
_NO_EXTRA: dict[str, Any] = {}
"""The ``extra`` of rows without metadata: one object, never changed, so a batch's rows
share its JSON (converted once) instead of each converting an empty dict of its own."""
EXAMPLES: Table = ExporterExample.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Provenance:
    """What an upload or request says about all its rows, unless a row says otherwise."""

    tenant: str
    source: str = "api"
    domain: str | None = None
    task_type: str | None = None
    owner: str | None = None


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def canonical_json(value: Any) -> str:
    """Compact JSON, non-ASCII kept (``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))``, with the encoder built once)."""
    return _ENCODE(value)


def _all_text(messages: Any) -> bool:
    """Whether ``messages`` is a list of dicts whose values are all ``str``."""
    if type(messages) is not list:
        return False
    for message in messages:
        if type(message) is not dict:
            return False
        for value in message.values():
            if type(value) is not str:
                return False
    return True


def messages_json(messages: Any) -> tuple[str, bytes]:
    """:func:`canonical_json` of ``messages``, as text and as UTF-8 bytes.

    Messages made only of text (nearly all) are encoded by orjson, whose output for strings,
    lists and dicts of string keys is byte for byte that of ``canonical_json``; anything
    else (numbers, whose exponents the two write differently, lone surrogates, keys that are
    not strings) goes through ``canonical_json`` itself.
    """
    if _all_text(messages):
        try:
            data = orjson.dumps(messages)
        except orjson.JSONEncodeError:
            pass
        else:
            return data.decode(), data
    text = _ENCODE(messages)
    return text, text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class IdSeries:
    """The ids of one batch's rows, chosen before the batch is prepared: the clock when it
    arrived plus each row's position (so new rows extend the id index at its end), then
    random bytes of the batch. The same series gives the same ids wherever the batch is
    prepared, so a batch stored by a worker that stopped before answering is recognised by
    its first id."""

    start_ns: int
    noise: str

    @classmethod
    def new(cls) -> Self:
        return cls(time.time_ns(), os.urandom(8).hex())

    def ids(self, count: int) -> list[str]:
        start, noise = self.start_ns, self.noise
        return [f"{start + position:016x}{noise}" for position in range(count)]


def example_ids(count: int) -> list[str]:
    """``count`` new example ids (see :class:`IdSeries`)."""
    return IdSeries.new().ids(count)


def example_id() -> str:
    """A new example id (see :class:`IdSeries`)."""
    return example_ids(1)[0]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _folded(messages: Sequence[dict[str, Any]]) -> str:
    """The conversation with whitespace collapsed and case folded, as the normalised hash
    reads it."""
    folded = []
    for m in messages:
        content = m.get("content")
        text = content if type(content) is str else (content_text(content) or "")
        folded.append(f"{m.get('role')}\x1f{' '.join(text.lower().split())}")
    return "\x1e".join(folded)


def _hashes(messages: Sequence[dict[str, Any]], data: bytes, tools_text: str) -> tuple[str, str]:
    """(exact, normalised) hashes of messages whose canonical JSON is ``data``."""
    exact = hashlib.sha256(data)
    exact.update(("\x1d" + tools_text).encode("utf-8", "surrogatepass"))
    return exact.hexdigest()[:32], _digest(_folded(messages) + "\x1d" + tools_text)


def content_hashes(
    messages: Sequence[dict[str, Any]], tools: Any, messages_json: str | None = None
) -> tuple[str, str]:
    """(exact, normalised) hashes of a conversation and its tools."""
    tools_text = canonical_json(tools) if tools else ""
    text = messages_json if messages_json is not None else canonical_json(messages)
    return _hashes(messages, text.encode("utf-8", "surrogatepass"), tools_text)


def _row(
    record: dict[str, Any],
    provenance: Provenance,
    counter: str | None,
    count: int | None,
    shape: PlainShape | None,
    row_id: str,
    now: datetime,
) -> dict[str, Any]:
    messages = record["messages"]
    tools = record.get("tools")
    text, data = messages_json(messages)
    tools_text = canonical_json(tools) if tools else ""
    exact, normalised = _hashes(messages, data, tools_text)
    return {
        "id": row_id,
        "tenant": provenance.tenant,
        "messages": text,
        "tools": tools_text or None,
        "rating": record.get("rating"),
        "gold_star": bool(record.get("gold_star", False)),
        "domain": record.get("domain") or provenance.domain,
        "task_type": record.get("task_type") or provenance.task_type,
        "owner": record.get("owner") or provenance.owner,
        "source": record.get("source") or provenance.source,
        "request_id": record.get("request_id"),
        "external_key": record.get("external_key"),
        "extra": record.get("metadata") or _NO_EXTRA,
        "token_count": count if counter is not None else None,
        "token_counter": counter if count is not None else None,
        "message_count": shape.messages if shape else None,
        "prompt_chars": shape.prompt_chars if shape else None,
        "response_chars": shape.response_chars if shape else None,
        "system_prompt": shape.system_prompt if shape else None,
        "content_hash": exact,
        "normalized_hash": normalised,
        "created_at": record.get("created_at") or now,
        "deleted_at": None,
    }


def example_row(
    record: dict[str, Any], provenance: Provenance, tokens: tuple[str, int | None] | None = None
) -> dict[str, Any]:
    """The ``exporter_examples`` row of one validated chat record.

    ``tokens`` is (tokenizer name, count) when the record was counted on intake, so exports
    with the same tokenizer need not count it again.
    """
    counter, count = tokens if tokens and tokens[1] is not None else (None, None)
    shape = plain_shape(record["messages"])
    return _row(record, provenance, counter, count, shape, example_id(), utc_now())


def example_rows(
    checked: Iterable[tuple[dict[str, Any], int | None, PlainShape | None]],
    provenance: Provenance,
    counter: str,
    ids: IdSeries | None = None,
) -> list[dict[str, Any]]:
    """The rows of a batch of validated records, each with its token count by ``counter``
    and its plain shape (``None``: not plain), as the checks found them; their ids from
    ``ids`` (a new series if not given).

    The batch is one arrival: its rows share their ``created_at`` unless a record has its own.
    """
    with collector_paused():
        batch = list(checked)
        now = utc_now()
        row_ids = (ids or IdSeries.new()).ids(len(batch))
        return [
            _row(record, provenance, counter, tokens, shape, row_id, now)
            for (record, tokens, shape), row_id in zip(batch, row_ids, strict=True)
        ]


async def apply_waiting_feedback(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Feedback that arrived before its example was captured rates it now."""
    by_request = {row["request_id"]: row for row in rows if row["request_id"]}
    if not by_request:
        return
    tenant = rows[0]["tenant"]
    statement = select(ExporterFeedback).where(
        col(ExporterFeedback.tenant) == tenant,
        col(ExporterFeedback.request_id).in_(list(by_request)),
    )
    for feedback in (await session.execute(statement)).scalars():
        row = by_request[feedback.request_id]
        row["rating"] = feedback.rating if feedback.rating is not None else row["rating"]
        row["gold_star"] = row["gold_star"] or feedback.gold_star


@cache
def sqlite_rows(
    dialect: Dialect,
) -> tuple[str, Callable[[list[dict[str, Any]]], list[tuple[Any, ...]]]]:
    """The INSERT of every column for SQLite's driver, and what turns rows into its parameters.

    The values go through each column type's own bind processor, as SQLAlchemy would apply
    it, so what is stored is the same; only the per-row work of a Core ``executemany`` is
    skipped.
    """
    columns = list(EXAMPLES.columns)
    names = [c.name for c in columns]
    statement = (
        f"INSERT INTO {EXAMPLES.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    )
    values = itemgetter(*names)
    processed = [
        (index, processor)
        for index, column in enumerate(columns)
        if (processor := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]

    def parameters(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        out = []
        # the last value of each processed column and what it became: a batch's rows share
        # their timestamp, their empty ``deleted_at``, often their ``gold_star``
        last: list[tuple[Any, Any]] = [(_UNSET, None)] * len(processed)
        for row in rows:
            params = list(values(row))
            for slot, (index, processor) in enumerate(processed):
                value = params[index]
                seen, result = last[slot]
                if value is not seen:
                    result = processor(value)
                    last[slot] = (value, result)
                params[index] = result
            out.append(tuple(params))
        return out

    return statement, parameters


@cache
def sqlite_dialect() -> Dialect:
    """The dialect of the SQLite driver, for turning rows into its parameters anywhere
    (in a worker process too) before a connection is at hand."""
    from sqlalchemy.dialects.sqlite.aiosqlite import dialect

    return dialect()


@dataclass
class ReadyRows:
    """New rows ready to insert: as SQLite's driver parameters when they can be prepared
    ahead (SQLite, and no row waits for feedback), else as column dicts; or already
    ``stored`` (by an intake worker), only their ids kept."""

    ids: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    sqlite_parameters: list[tuple[Any, ...]] = field(default_factory=list)
    stored: bool = False


def ready_rows(rows: list[dict[str, Any]], dialect_name: str) -> ReadyRows:
    """``rows`` prepared for a database of ``dialect_name`` as far as they can be."""
    ids = [row["id"] for row in rows]
    if dialect_name != "sqlite" or any(row["request_id"] for row in rows):
        return ReadyRows(ids, rows=rows)
    _, parameters = sqlite_rows(sqlite_dialect())
    with collector_paused():
        return ReadyRows(ids, sqlite_parameters=parameters(rows))


async def insert_ready(session: AsyncSession, ready: ReadyRows) -> None:
    """Insert rows made by :func:`ready_rows` inside the caller's transaction."""
    if not ready.sqlite_parameters:
        await insert_examples(session, ready.rows)
        return
    statement, _ = sqlite_rows(sqlite_dialect())
    connection = await session.connection()
    for start in range(0, len(ready.sqlite_parameters), INSERT_BATCH):
        await connection.exec_driver_sql(
            statement, ready.sqlite_parameters[start : start + INSERT_BATCH]
        )


def insert_ready_with_driver(connection: sqlite3.Connection, ready: ReadyRows) -> None:
    """Insert rows prepared as SQLite parameters in one transaction of the driver's own
    ``connection`` (autocommit mode, as an intake worker opens it): all of them, or none."""
    statement, _ = sqlite_rows(sqlite_dialect())
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany(statement, ready.sqlite_parameters)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


async def stored_already(session: AsyncSession, example_id: str) -> bool:
    """Whether the example ``example_id`` is stored."""
    statement = select(col(ExporterExample.id)).where(col(ExporterExample.id) == example_id)
    return (await session.execute(statement)).first() is not None


async def insert_examples(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert rows in batches inside the caller's transaction."""
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        await apply_waiting_feedback(session, batch)
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            statement, parameters = sqlite_rows(connection.dialect)
            with collector_paused():
                values = parameters(batch)
            await connection.exec_driver_sql(statement, values)
        else:
            await session.execute(insert(EXAMPLES), batch)


async def rate_captured_example(
    session: AsyncSession, tenant: str, request_id: str, rating: int | None, gold_star: bool
) -> int:
    """Attach a rating / gold star to the examples captured for ``request_id``."""
    values: dict[str, Any] = {}
    if rating is not None:
        values["rating"] = rating
    if gold_star:
        values["gold_star"] = True
    if not values:
        return 0
    statement = (
        update(ExporterExample)
        .where(
            col(ExporterExample.tenant) == tenant,
            col(ExporterExample.request_id) == request_id,
        )
        .values(**values)
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = [
    "IdSeries",
    "Provenance",
    "ReadyRows",
    "apply_waiting_feedback",
    "canonical_json",
    "content_hashes",
    "example_id",
    "example_ids",
    "example_row",
    "example_rows",
    "insert_examples",
    "insert_ready",
    "insert_ready_with_driver",
    "messages_json",
    "rate_captured_example",
    "ready_rows",
    "sqlite_dialect",
    "stored_already",
]
