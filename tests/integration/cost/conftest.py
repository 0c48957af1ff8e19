"""A cost service over a real, migrated database (SQLite and PostgreSQL), and event makers."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from faststream.nats import NatsBroker
from sqlalchemy import select

from contracts.events import InferenceCompleted, JobCompleted, ModelRegistered
from libs.messaging import Bus, OutboxRelay, Subjects
from libs.messaging.tables import OutboxMessage
from libs.storage import Database
from services.cost.costs import Costs

T0 = datetime(2026, 3, 14, 9, 26, 5, tzinfo=UTC)


def costs_on(url: str, subjects: Subjects | None = None, broker: NatsBroker | None = None) -> Costs:
    database = Database(url)
    bus = Bus(broker or NatsBroker(), subjects or Subjects("unit"))
    return Costs(database, bus, OutboxRelay(database, bus))


@pytest.fixture
async def costs(migrated_database_url: str) -> AsyncIterator[Costs]:
    instance = costs_on(migrated_database_url)
    yield instance
    await instance.database.dispose()


async def staged_events(costs: Costs, type_: str) -> list[dict[str, object]]:
    """Bodies of the events of ``type_`` the service wrote to its outbox, oldest first."""
    async with costs.database.session() as session:
        rows = (
            await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))  # type: ignore[arg-type]
        ).scalars()
        bodies = [json.loads(row.payload) for row in rows]
    return [body for body in bodies if body["type"] == type_]


def job_completed(
    job_id: str,
    base_model: str = "tiny-llama",
    tenant: str = "acme",
    trained_tokens: int = 30_000,
    wall_seconds: float = 60.0,
    hardware: str | None = "cpu",
    time: datetime = T0,
) -> JobCompleted:
    return JobCompleted(
        tenant=tenant,
        job_id=job_id,
        base_model=base_model,
        model_name="support-bot",
        fine_tuned_model=f"tiny-llama:support:{job_id}",
        dataset="support",
        dataset_version=1,
        adapter_sha256="a" * 64,
        adapter_uri="file:///artifacts/" + "a" * 64,
        adapter_bytes=10,
        trained_tokens=trained_tokens,
        wall_seconds=wall_seconds,
        hyperparameters={"hardware": hardware} if hardware else {},
        time=time,
    )


def registered(
    serving_name: str, base_model: str, job_id: str | None = None, tenant: str = "acme"
) -> ModelRegistered:
    return ModelRegistered(
        tenant=tenant,
        model_name="support-bot",
        version=1,
        serving_name=serving_name,
        base_model=base_model,
        job_id=job_id,
    )


def inference(
    serving_name: str,
    prompt: int = 300,
    completion: int = 100,
    time: datetime = T0,
    tenant: str = "acme",
) -> InferenceCompleted:
    return InferenceCompleted(
        tenant=tenant,
        request_id="r",
        requested_model=serving_name,
        serving_name=serving_name,
        latency_ms=10.0,
        prompt_tokens=prompt,
        completion_tokens=completion,
        time=time,
    )
