"""The registry's HTTP API: bodies, status codes and error messages."""

import httpx
import pytest

from services.registry.api import create_api
from services.registry.registry import Registry
from tests.integration.registry.conftest import job_completed
from tests.support.identity import as_gateway, protected

pytestmark = pytest.mark.integration

ACME = {"X-Tuneloop-Tenant": "acme"}


def client_for(registry: Registry) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=protected(create_api(registry))),
        base_url="http://registry",
        auth=as_gateway(),
    )


async def test_deploy_history_and_conflict_over_http(registry: Registry) -> None:
    await registry.register_job_output(job_completed("job-1", sha_digit="a"))
    await registry.register_job_output(job_completed("job-2", sha_digit="b"))
    async with client_for(registry) as client:
        first = await client.post(
            "/v1/registry/models/support-bot/deployments",
            headers=ACME,
            json={"version": 1, "notes": "first"},
        )
        assert first.status_code == 200, first.text
        revision = first.json()["revision"]
        second = await client.post(
            "/v1/registry/models/support-bot/deployments",
            headers=ACME,
            json={"version": 2, "expected_revision": revision},
        )
        assert second.status_code == 200
        stale = await client.post(
            "/v1/registry/models/support-bot/deployments",
            headers=ACME,
            json={"version": 1, "expected_revision": revision},
        )
        assert stale.status_code == 409
        assert stale.json()["error"]["code"] == "conflict"
        now = await client.get("/v1/registry/models/support-bot/aliases/production", headers=ACME)
        assert now.json()["version"] == 2
        history = await client.get("/v1/registry/models/support-bot/history", headers=ACME)
        assert [h["to_version"] for h in history.json()] == [1, 2]
        models = await client.get("/v1/registry/models", headers=ACME)
        assert models.json()[0]["aliases"][0]["serving_name"].startswith("support-bot@2-")


async def test_errors_name_the_problem(registry: Registry) -> None:
    async with client_for(registry) as client:
        missing = await client.get("/v1/registry/models/nope/versions", headers=ACME)
        assert missing.status_code == 404
        assert "no model named 'nope'" in missing.json()["error"]["message"]
        other_tenant = await client.get(
            "/v1/registry/models", headers={"X-Tuneloop-Tenant": "globex"}
        )
        assert other_tenant.json() == []
        bad = await client.post(
            "/v1/registry/models", headers=ACME, json={"model_name": "Bad Name", "base_model": "m"}
        )
        assert bad.status_code == 422
