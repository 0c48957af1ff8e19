"""Building an exporter on a real database and artifact store for tests, and example data."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from libs.artifacts import LocalArtifactStore
from libs.messaging import Bus, OutboxRelay, Subjects, create_broker
from libs.storage import Database
from services.exporter.api import create_api
from services.exporter.export import ExportTools
from services.exporter.runtime import Exporter
from services.exporter.tables import ExporterExample
from services.exporter.tokens import HuggingFaceTokenCounter
from services.exporter.validation import Rules
from tests.polling import eventually
from tests.support.identity import as_gateway, protected

SYSTEM = "You are the support agent of an online shop."


def conversation(i: int, answer: str | None = None) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Where is my order number {i}? It has not arrived."},
        {
            "role": "assistant",
            "content": answer or f"Order {i} left the warehouse yesterday; it arrives tomorrow.",
        },
    ]


def example(i: int, **fields: Any) -> dict[str, Any]:
    return {"messages": conversation(i), "rating": 4 + i % 2, "domain": "support", **fields}


def exporter_on(
    database: Database,
    artifacts: Path,
    tokenizer: Path,
    bus: Bus | None = None,
    outbox: OutboxRelay | None = None,
    **options: Any,
) -> Exporter:
    if bus is None:
        subjects = Subjects("unused")
        bus = Bus(create_broker("nats://127.0.0.1:1", subjects, max_attempts=1), subjects)
    tools = ExportTools(
        database=database,
        artifacts=LocalArtifactStore(artifacts),
        bus=bus,
        outbox=outbox,
        counter=HuggingFaceTokenCounter(tokenizer),
        external_databases=options.pop("external_databases", {}),
        external_timeout_seconds=options.pop("external_timeout_seconds", 30.0),
    )
    exporter = Exporter(tools=tools, rules=Rules(context_length=512), min_examples=3)
    return replace(exporter, **options)


@asynccontextmanager
async def http_client(exporter: Exporter) -> AsyncIterator[httpx.AsyncClient]:
    api = protected(create_api(exporter, exporter.tools.artifacts))
    transport = httpx.ASGITransport(app=api)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://exporter", auth=as_gateway()
        ) as client:
            yield client
    finally:
        await exporter.runner.stop(exporter)


async def export_finished(
    client: httpx.AsyncClient, accepted: httpx.Response, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Follow an accepted export (202) until it has succeeded or failed; its last status."""
    assert accepted.status_code == 202, accepted.text
    url = f"/v1/datasets/exports/{accepted.json()['id']}"
    assert accepted.headers["location"] == url
    last: dict[str, Any] = {}

    async def finished() -> bool:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        last.update(response.json())
        return last["status"] in ("succeeded", "failed")

    await eventually(finished, timeout=60, what=f"export {url} finished")
    return last


async def outbox_types(database: Database) -> list[str]:
    """Types of the messages staged in the outbox, oldest first."""
    from libs.messaging.tables import OutboxMessage

    statement = select(col(OutboxMessage.subject)).order_by(col(OutboxMessage.created_at))
    async with database.session() as session:
        subjects = list((await session.execute(statement)).scalars())
    return [subject.split(".", 2)[-1] for subject in subjects]


async def stored_examples(database: Database, tenant: str | None = None) -> int:
    statement = select(func.count()).select_from(ExporterExample)
    if tenant is not None:
        statement = statement.where(col(ExporterExample.tenant) == tenant)
    async with database.session() as session:
        return int((await session.execute(statement)).scalar_one())


__all__ = [
    "conversation",
    "example",
    "export_finished",
    "exporter_on",
    "http_client",
    "outbox_types",
    "stored_examples",
]
