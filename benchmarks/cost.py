"""Ledger ingest of ``inference.completed``: the cost service vs a per-request ledger.

Ours: each event is claimed in the inbox (so a redelivery changes nothing), priced exactly in
decimals, added to its serving name's per-minute rollup and to the tenant's budgets, in one
transaction. The peer is what a cost tracker usually does: one row per request with a float
amount, one transaction per request, no de-duplication. Both run on the same SQLite file
system; the figure is events per second.
"""

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from faststream.nats import NatsBroker
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert

from benchmarks.report import Comparison
from contracts.api.cost import BudgetCreate
from contracts.events import InferenceCompleted, ModelRegistered
from libs.messaging import Bus, OutboxRelay, Subjects
from libs.storage import Database, migrate_to_head
from services.cost.costs import Costs

EVENTS = 2000
START = datetime(2026, 1, 1, tzinfo=UTC)


def events() -> list[InferenceCompleted]:
    return [
        InferenceCompleted(
            tenant="bench",
            request_id=f"r{n}",
            requested_model="bot",
            serving_name="bot@1-aaaaaaaa",
            latency_ms=5.0,
            prompt_tokens=300 + n % 50,
            completion_tokens=100 + n % 20,
            time=START + timedelta(milliseconds=50 * n),
        )
        for n in range(EVENTS)
    ]


async def ours(directory: Path, batch: list[InferenceCompleted]) -> float:
    url = f"sqlite+aiosqlite:///{directory / 'ours.db'}"
    await migrate_to_head(url)
    database = Database(url)
    bus = Bus(NatsBroker(), Subjects("bench"))
    costs = Costs(database, bus, OutboxRelay(database, bus))
    await costs.model_registered(
        ModelRegistered(
            tenant="bench",
            model_name="bot",
            version=1,
            serving_name="bot@1-aaaaaaaa",
            base_model="gpt-4o-mini",
        )
    )
    await costs.create_budget("bench", BudgetCreate(limit_usd=Decimal(1000)))
    started = time.perf_counter()
    for event in batch:
        await costs.inference_completed(event)
    elapsed = time.perf_counter() - started
    await database.dispose()
    return len(batch) / elapsed


async def peer(directory: Path, batch: list[InferenceCompleted]) -> float:
    database = Database(f"sqlite+aiosqlite:///{directory / 'peer.db'}")
    table = Table(
        "requests",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("serving_name", String(255)),
        Column("prompt_tokens", Integer),
        Column("completion_tokens", Integer),
        Column("cost", Float),
    )
    async with database.engine.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
    started = time.perf_counter()
    for event in batch:
        cost = (event.prompt_tokens * 15 + event.completion_tokens * 60) / 1_000_000
        async with database.transaction() as session:
            await session.execute(
                insert(table).values(
                    serving_name=event.serving_name,
                    prompt_tokens=event.prompt_tokens,
                    completion_tokens=event.completion_tokens,
                    cost=cost,
                )
            )
    elapsed = time.perf_counter() - started
    await database.dispose()
    return len(batch) / elapsed


async def run_cost_benchmark() -> Comparison:
    batch = events()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        ours_rate = await ours(directory, batch)
        peer_rate = await peer(directory, batch)
    return Comparison(
        name="cost-ledger-ingest",
        metric=f"inference.completed events/s into the ledger ({EVENTS} events, SQLite)",
        ours_label="tuneloop cost (inbox, decimal rollup, budget)",
        ours=ours_rate,
        peer_label="per-request float rows, no de-duplication",
        peer=peer_rate,
    )


if __name__ == "__main__":
    print(asyncio.run(run_cost_benchmark()).table())
