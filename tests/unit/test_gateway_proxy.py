"""The gateway forwards /v1 paths to the owning service (fake upstreams, real routing)."""

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from contracts.queries import HealthReply
from libs.tenancy import Identity, IdentitySigner, verified_body
from libs.tenancy.identity import BODY_DIGEST_LIMIT
from libs.tenancy.requests import request_target
from services.gateway.auth import Gatekeeper
from services.gateway.directory import ServiceDirectory
from services.gateway.keystore import Caller
from services.gateway.proxy import FrontDoor, owner_of, proxy_routes

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
        ("/v1/retraining/policies/support-bot/runs", "retrainer"),
        ("/v1/retraining/runs", "retrainer"),
        ("/v1/modelsx", None),
        ("/v1/registryx", None),
        ("/v1/unknown", None),
    ],
)
def test_paths_belong_to_one_service(path: str, service: str | None) -> None:
    assert owner_of(path) == service


ACME_KEY = "tl_acme0001_" + "s" * 43
SIGNER = IdentitySigner("internal-secret-of-these-tests-0123456789")


class FakeKeys:
    """Knows one key, of tenant acme with the deploy and read scopes."""

    async def authenticate(self, token: str) -> Caller | None:
        return Caller("acme0001", "acme", ("deploy", "read")) if token == ACME_KEY else None


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str | None, str, str, int]] = []

    async def record(
        self, tenant: str, key_id: str | None, method: str, path: str, status: int
    ) -> None:
        self.entries.append((tenant, key_id, method, path, status))


def gateway(
    upstream: httpx.AsyncBaseTransport,
    running: set[str],
    audit: FakeAudit | None = None,
    max_body_bytes: int = 10_000,
    signer: IdentitySigner | None = SIGNER,
) -> FastAPI:
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
    front = FrontDoor(Gatekeeper(FakeKeys()), audit or FakeAudit(), max_body_bytes, signer)  # type: ignore[arg-type]
    api.include_router(
        proxy_routes(ServiceDirectory(ask, 0.1), httpx.AsyncClient(transport=upstream), front)
    )
    return api


def fake_registry() -> FastAPI:
    registry = FastAPI()

    @registry.post("/v1/registry/models/{name}/deployments")
    async def deploy(name: str, request: Request) -> JSONResponse:
        assert request.headers["x-tuneloop-tenant"] == "acme"
        assert request.headers["x-tuneloop-key-id"] == "acme0001"
        assert request.headers["x-tuneloop-scopes"] == "deploy read"
        target = request_target(request)
        assert target == f"/v1/registry/models/{name}/deployments?status=ready"
        assert SIGNER.verify(request.headers, request.method, target) == Identity(
            "acme", "acme0001", ("deploy", "read")
        )
        await verified_body(request)  # the body is the signed one
        assert "x-tuneloop-unit" not in request.headers
        assert "authorization" not in request.headers
        assert request.query_params["status"] == "ready"
        assert await request.json() == {"version": 1}
        return JSONResponse(
            {"error": {"code": "conflict", "message": f"{name} is stale"}},
            status_code=409,
            headers={"x-served-by": "registry"},
        )

    return registry


async def test_requests_and_answers_pass_through_with_the_callers_identity_only() -> None:
    audit = FakeAudit()
    app = gateway(httpx.ASGITransport(app=fake_registry()), running={"registry"}, audit=audit)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.post(
            "/v1/registry/models/x/deployments?status=ready",
            headers={
                "Authorization": f"Bearer {ACME_KEY}",
                "X-Tuneloop-Tenant": "someone-else",
                "X-Tuneloop-Scopes": "admin",
                "X-Tuneloop-Unit": "forged",
            },
            json={"version": 1},
        )
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "conflict", "message": "x is stale"}
    assert response.headers["x-served-by"] == "registry"
    assert audit.entries == [("acme", "acme0001", "POST", "/v1/registry/models/x/deployments", 409)]


AUTH = {"Authorization": f"Bearer {ACME_KEY}"}


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "missing_api_key"),
        ({"Authorization": "Bearer tl_acme0001_" + "x" * 43}, 401, "invalid_api_key"),
        ({"Authorization": "Basic abc"}, 401, "missing_api_key"),
    ],
)
async def test_requests_without_a_valid_key_never_reach_a_service(
    headers: dict[str, str], status: int, code: str
) -> None:
    reached: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        reached.append(request.url.path)
        return httpx.Response(200)

    app = gateway(httpx.MockTransport(upstream), running={"registry", "trainer"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        ours = await client.get("/v1/registry/models", headers=headers)
        openai = await client.get("/v1/fine_tuning/jobs", headers=headers)
    assert ours.status_code == openai.status_code == status
    assert ours.json()["error"]["code"] == code
    assert set(openai.json()["error"]) == {"message", "type", "param", "code"}
    assert openai.json()["error"]["type"] == "authentication_error"
    assert reached == []


async def test_a_key_without_the_scope_is_a_403_naming_the_scope() -> None:
    app = gateway(httpx.MockTransport(lambda r: httpx.Response(200)), running={"trainer"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.post("/v1/fine_tuning/jobs", headers=AUTH, json={})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert "train" in response.json()["error"]["message"]


async def test_an_oversized_body_is_a_413_before_it_is_forwarded() -> None:
    reached: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        reached.append(request.url.path)
        return httpx.Response(200)

    app = gateway(httpx.MockTransport(upstream), running={"registry"}, max_body_bytes=1024)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.post("/v1/registry/models", headers=AUTH, content=b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert reached == []


async def test_a_stopped_service_is_a_503_that_says_what_to_check() -> None:
    app = gateway(httpx.MockTransport(lambda r: httpx.Response(200)), running=set())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.get("/v1/registry/models", headers=AUTH)
        unknown = await client.get("/v1/nothing-here", headers=AUTH)
    assert response.status_code == 503
    assert "tuneloop health" in response.json()["error"]["message"]
    assert unknown.status_code == 404


async def test_ids_reach_the_service_percent_encoded_as_sent() -> None:
    seen: list[bytes] = []
    trainer = FastAPI()

    @trainer.get("/{path:path}")
    async def anything(path: str, request: Request) -> JSONResponse:
        seen.append(request.scope["raw_path"])
        return JSONResponse({"error": {"code": "file_not_found"}}, status_code=404)

    app = gateway(httpx.ASGITransport(app=trainer), running={"trainer"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.get("/v1/files/a%2F..%3Fx%16", headers=AUTH)
    assert response.status_code == 404
    assert seen == [b"/v1/files/a%2F..%3Fx%16"]


async def test_repeated_query_parameters_all_reach_the_service() -> None:
    seen: list[list[tuple[str, str]]] = []
    trainer = FastAPI()

    @trainer.get("/v1/fine_tuning/jobs")
    async def jobs(request: Request) -> JSONResponse:
        seen.append(request.query_params.multi_items())
        return JSONResponse({"object": "list", "data": []})

    app = gateway(httpx.ASGITransport(app=trainer), running={"trainer"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.get(
            "/v1/fine_tuning/jobs?status=queued&status=running&after=ftjob-1", headers=AUTH
        )
    assert response.status_code == 200
    assert seen == [[("status", "queued"), ("status", "running"), ("after", "ftjob-1")]]


async def test_without_an_internal_secret_nothing_is_forwarded() -> None:
    reached: list[str] = []
    trainer = FastAPI()

    @trainer.get("/v1/fine_tuning/jobs")
    async def jobs() -> JSONResponse:
        reached.append("jobs")
        return JSONResponse({"object": "list", "data": []})

    app = gateway(httpx.ASGITransport(app=trainer), running={"trainer"}, signer=None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        response = await client.get("/v1/fine_tuning/jobs", headers=AUTH)
    assert response.status_code == 503
    assert "TUNELOOP_INTERNAL_SECRET" in response.json()["error"]["message"]
    assert reached == []


async def test_a_large_body_streams_through_signed_by_its_length() -> None:
    """Bodies over the digest limit are not held to be hashed: the service gets them with
    their declared length, which is what the signature covers."""
    seen: list[tuple[str, str, int]] = []
    registry = FastAPI()

    @registry.post("/v1/registry/import")
    async def upload(request: Request) -> JSONResponse:
        target = request_target(request)
        assert SIGNER.verify(request.headers, "POST", target).tenant == "acme"
        await verified_body(request)
        claim = request.headers["x-tuneloop-body-digest"]
        seen.append((claim, request.headers["content-length"], len(await request.body())))
        return JSONResponse({"ok": True})

    size = BODY_DIGEST_LIMIT + 10
    app = gateway(httpx.ASGITransport(app=registry), {"registry"}, max_body_bytes=4 * size)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        large = await client.post("/v1/registry/import", headers=AUTH, content=b"x" * size)
        small = await client.post("/v1/registry/import", headers=AUTH, content=b"y" * 10)
    assert large.status_code == small.status_code == 200
    assert seen[0] == (f"length={size}", str(size), size)
    assert seen[1][0].startswith("sha256=")
    assert seen[1][1:] == ("10", 10)
