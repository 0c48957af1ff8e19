"""A service answers the health query (in-memory broker, fake database)."""

from pathlib import Path
from unittest.mock import AsyncMock

import pytest
from faststream.nats import NatsBroker, TestNatsBroker
from prometheus_client import CollectorRegistry

from contracts.queries import HealthQuery, HealthReply
from libs.artifacts import LocalArtifactStore
from libs.config import ServiceSettings
from libs.messaging import Bus, OutboxRelay, Subjects
from libs.runtime.context import ServiceContext
from libs.runtime.health import health_router

pytestmark = pytest.mark.unit


def context_with(database: object, tmp_path: Path) -> ServiceContext:
    broker = NatsBroker()
    bus = Bus(broker, Subjects("unit"))
    return ServiceContext(
        name="registry",
        settings=ServiceSettings(),
        bus=bus,
        database=database,  # type: ignore[arg-type]
        artifacts=LocalArtifactStore(tmp_path),
        outbox=OutboxRelay(database, bus),  # type: ignore[arg-type]
        metrics=CollectorRegistry(),
    )


@pytest.mark.parametrize(("ping_error", "status"), [(None, "ok"), (OSError("disk"), "degraded")])
async def test_health_reply_reflects_the_database(
    tmp_path: Path, ping_error: Exception | None, status: str
) -> None:
    database = AsyncMock()
    database.ping.side_effect = ping_error
    context = context_with(database, tmp_path)
    context.bus.broker.include_router(health_router(context))
    async with TestNatsBroker(context.bus.broker) as broker:
        response = await broker.request(HealthQuery(), "unit.queries.registry.health")
        reply = HealthReply.model_validate_json(response.body)
    assert reply.service == "registry"
    assert reply.status == status
    assert reply.checks["database"].ok is (ping_error is None)
