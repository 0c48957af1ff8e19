"""Stored examples: canonical JSON, content hashes for de-duplication, batched inserts.

Two hashes are kept per example: the exact content, and the content with whitespace
collapsed and case folded, so ``"Hello  World"`` and ``"hello world"`` are one example.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import new_message_id, utc_now
from services.exporter.tables import ExporterExample, ExporterFeedback
from services.exporter.validation import content_text

INSERT_BATCH = 2000
EXAMPLES: Table = ExporterExample.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Provenance:
    """What an upload or request says about all its rows, unless a row says otherwise."""

    tenant: str
    source: str = "api"
    domain: str | None = None
    task_type: str | None = None
    owner: str | None = None


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def content_hashes(
    messages: Sequence[dict[str, Any]], tools: Any, messages_json: str | None = None
) -> tuple[str, str]:
    """(exact, normalised) hashes of a conversation and its tools."""
    tools_text = canonical_json(tools) if tools else ""
    exact = _digest((messages_json or canonical_json(messages)) + "\x1d" + tools_text)
    folded = "\x1e".join(
        f"{m.get('role')}\x1f{' '.join((content_text(m.get('content')) or '').lower().split())}"
        for m in messages
    )
    return exact, _digest(folded + "\x1d" + tools_text)


def example_row(
    record: dict[str, Any], provenance: Provenance, tokens: tuple[str, int | None] | None = None
) -> dict[str, Any]:
    """The ``exporter_examples`` row of one validated chat record.

    ``tokens`` is (tokenizer name, count) when the record was counted on intake, so exports
    with the same tokenizer need not count it again.
    """
    counter, count = tokens if tokens and tokens[1] is not None else (None, None)
    messages = record["messages"]
    tools = record.get("tools")
    messages_json = canonical_json(messages)
    exact, normalised = content_hashes(messages, tools, messages_json)
    return {
        "id": new_message_id(),
        "tenant": provenance.tenant,
        "messages": messages_json,
        "tools": canonical_json(tools) if tools else None,
        "rating": record.get("rating"),
        "gold_star": bool(record.get("gold_star", False)),
        "domain": record.get("domain") or provenance.domain,
        "task_type": record.get("task_type") or provenance.task_type,
        "owner": record.get("owner") or provenance.owner,
        "source": record.get("source") or provenance.source,
        "request_id": record.get("request_id"),
        "external_key": record.get("external_key"),
        "extra": record.get("metadata") or {},
        "token_count": count,
        "token_counter": counter,
        "content_hash": exact,
        "normalized_hash": normalised,
        "created_at": record.get("created_at") or utc_now(),
        "deleted_at": None,
    }


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


async def insert_examples(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert rows in batches inside the caller's transaction."""
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        await apply_waiting_feedback(session, batch)
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
    "Provenance",
    "apply_waiting_feedback",
    "canonical_json",
    "content_hashes",
    "example_row",
    "insert_examples",
    "rate_captured_example",
]
