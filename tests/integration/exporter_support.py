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
    async with httpx.AsyncClient(
        transport=transport, base_url="http://exporter", auth=as_gateway()
    ) as client:
        yield client


async def stored_examples(database: Database, tenant: str | None = None) -> int:
    statement = select(func.count()).select_from(ExporterExample)
    if tenant is not None:
        statement = statement.where(col(ExporterExample.tenant) == tenant)
    async with database.session() as session:
        return int((await session.execute(statement)).scalar_one())


__all__ = ["conversation", "example", "exporter_on", "http_client", "stored_examples"]
