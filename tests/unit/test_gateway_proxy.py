"""The gateway forwards /v1 paths to the owning service (fake upstreams, real routing)."""

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from contracts.queries import HealthReply
from services.gateway.directory import ServiceDirectory
from services.gateway.proxy import owner_of, proxy_routes

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/models", "router"),
        ("/v1/registry/models/support-bot/deployments", "registry"),
        ("/v1/registry/export", "registry"),
        ("/v1/datasets/uploads", "exporter"),
        ("/v1/fine_tuning/jobs/abc/cancel", "trainer"),
        ("/v1/chat/completions", "router"),
        ("/v1/modelsx", None),
        ("/v1/registryx", None),
        ("/v1/unknown", None),
    ],
)
def test_paths_belong_to_one_service(path: str, service: str | None) -> None:
    assert owner_of(path) == service


def gateway(upstream: httpx.AsyncBaseTransport, running: set[str]) -> FastAPI:
    async def ask(service: str, timeout: float) -> HealthReply:
        if service not in running:
            raise TimeoutError
        return HealthReply(
            service=service,
            status="ok",
            version="t",
            pid=1,
            started_at=datetime.now(UTC),
            http_url=f"http://{service}.internal",
        )

    api = FastAPI()
    api.include_router(
        proxy_routes(ServiceDirectory(ask, 0.1), httpx.AsyncClient(transport=upstream))
    )
    return api


def fake_registry() -> FastAPI:
    registry = FastAPI()

    @registry.post("/v1/registry/models/{name}/deployments")
    async def deploy(name: str, request: Request) -> JSONResponse:
        assert request.headers["x-tuneloop-tenant"] == "acme"
        assert request.query_params["status"] == "ready"
        assert await request.json() == {"version": 1}
        return JSONResponse(
            {"error": {"code": "conflict", "message": f"{name} is stale"}},
            status_code=409,
            headers={"x-served-by": "registry"},
        )

    return registry


async def test_requests_and_answers_pass_through_unchanged() -> None:
    app = gateway(httpx.ASGITransport(app=fake_registry()), running={"registry"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.post(
            "/v1/registry/models/x/deployments?status=ready",
            headers={"X-Tuneloop-Tenant": "acme"},
            json={"version": 1},
        )
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "conflict", "message": "x is stale"}
    assert response.headers["x-served-by"] == "registry"


async def test_a_stopped_service_is_a_503_that_says_what_to_check() -> None:
    app = gateway(httpx.MockTransport(lambda r: httpx.Response(200)), running=set())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.get("/v1/registry/models")
        unknown = await client.get("/v1/nothing-here")
    assert response.status_code == 503
    assert "tuneloop health" in response.json()["error"]["message"]
    assert unknown.status_code == 404
