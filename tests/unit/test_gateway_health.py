"""The gateway's /healthz with fake services: ok, one down, one degraded."""

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from contracts.queries import CheckResult, HealthReply
from contracts.services import SERVICE_NAMES
from services.gateway.api import health_routes

pytestmark = pytest.mark.unit


def reply(service: str, database_ok: bool = True) -> HealthReply:
    return HealthReply(
        service=service,
        status="ok" if database_ok else "degraded",
        version="test",
        pid=1,
        started_at=datetime.now(UTC),
        checks={
            "nats": CheckResult(ok=True),
            "database": CheckResult(ok=database_ok, detail="" if database_ok else "locked"),
        },
    )


def fake_asker(down: set[str] = frozenset(), degraded: set[str] = frozenset()):  # type: ignore[no-untyped-def,assignment]
    async def ask(service: str, timeout: float) -> HealthReply:
        if service in down:
            await asyncio.sleep(timeout * 2)
        return reply(service, database_ok=service not in degraded)

    async def bounded(service: str, timeout: float) -> HealthReply:
        return await asyncio.wait_for(ask(service, timeout), timeout)

    return bounded


async def get_health(asker, timeout: float) -> httpx.Response:  # type: ignore[no-untyped-def]
    app = FastAPI()
    app.include_router(health_routes(asker, timeout))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.get("/healthz")


async def test_all_services_ok() -> None:
    response = await get_health(fake_asker(), timeout=0.2)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["services"]) == set(SERVICE_NAMES)


async def test_a_silent_service_is_reported_unreachable() -> None:
    response = await get_health(fake_asker(down={"trainer"}), timeout=0.05)
    assert response.status_code == 503
    trainer = response.json()["services"]["trainer"]
    assert trainer["status"] == "unreachable"
    assert trainer["checks"]["nats"] == "no answer in time"


async def test_a_failing_check_says_what_fails() -> None:
    body = (await get_health(fake_asker(degraded={"cost"}), timeout=0.2)).json()
    assert body["status"] == "degraded"
    assert body["services"]["cost"]["checks"]["database"] == "locked"
