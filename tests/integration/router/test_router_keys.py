"""Direct callers of the router need a key with the infer scope, checked with the gateway
over NATS; a tenant reaches only its own models."""

from pathlib import Path

import httpx
import pytest

from libs.messaging import Subjects
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from services.gateway import DEFINITION as GATEWAY
from services.gateway import keystore as gateway_keystore
from services.gateway.bootstrap import create_key
from services.gateway.settings import GatewaySettings
from services.router import access as router_access
from tests.integration.router.conftest import BASE, Stack
from tests.integration.router.test_router import chat, register_and_deploy
from tests.polling import eventually
from tests.support.identity import TEST_SECRET

pytestmark = pytest.mark.integration


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def gateway_for(
    nats_url: str, subjects: Subjects, database_url: str, home: Path
) -> AssembledService:
    return assemble(
        GATEWAY,
        GatewaySettings(
            home=home,
            nats_url=nats_url,
            subject_prefix=subjects.prefix,
            database_url=database_url,
            internal_secret=TEST_SECRET,
        ),
    )


async def test_direct_calls_are_checked_with_the_gateways_key_store(
    stack: Stack, nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    gateway = gateway_for(nats_url, subjects, migrated_database_url, tmp_path)
    await start_messaging(gateway)
    try:
        stack.router.api.state.key_checker.require_key = True  # as `tuneloop up` runs it
        acme = (await create_key(migrated_database_url, "acme", "app", ["infer"])).token
        globex = (await create_key(migrated_database_url, "globex", "app", ["infer"])).token
        reader = (await create_key(migrated_database_url, "acme", "ro", ["read"])).token
        serving_name = await register_and_deploy(stack, "acme only")

        async def acme_served() -> bool:
            response = await stack.client.post(
                "/v1/chat/completions", json=chat("support-bot"), headers=bearer(acme)
            )
            return response.status_code == 200

        await eventually(acme_served, what="acme's model serving")
        post = stack.client.post
        anonymous = await post("/v1/chat/completions", json=chat(BASE))
        forged = await post("/v1/chat/completions", json=chat(BASE), headers=bearer("tl_x_y"))
        wrong_scope = await post("/v1/chat/completions", json=chat(BASE), headers=bearer(reader))
        base_for_globex = await post(
            "/v1/chat/completions", json=chat(BASE), headers=bearer(globex)
        )
        other_tenants = [
            await post("/v1/chat/completions", json=chat(name), headers=bearer(globex))
            for name in ("support-bot", serving_name)
        ]
        header_ignored = await post(
            "/v1/chat/completions",
            json=chat("support-bot"),
            headers={**bearer(globex), "X-Tuneloop-Tenant": "acme"},
        )
        globex_models = (await stack.client.get("/v1/models", headers=bearer(globex))).json()
        acme_models = (await stack.client.get("/v1/models", headers=bearer(acme))).json()
    finally:
        await stop_messaging(gateway)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "invalid_api_key"
    assert wrong_scope.status_code == 403
    assert wrong_scope.json()["error"]["code"] == "insufficient_scope"
    assert base_for_globex.status_code == 200
    for response in [*other_tenants, header_ignored]:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "model_not_found"
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    globex_ids = {m["id"] for m in globex_models["data"]}
    assert BASE in globex_ids
    assert "support-bot" not in globex_ids
    assert serving_name not in globex_ids
    assert "support-bot" in {m["id"] for m in acme_models["data"]}


async def test_a_revoked_key_is_refused_at_once_by_a_router_that_had_accepted_it(
    stack: Stack,
    nats_url: str,
    subjects: Subjects,
    migrated_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Revoking goes out as ``api_key.revoked``: the router forgets the key it remembered,
    and so does a second gateway replica that had verified it. Both would otherwise trust it
    for as long as they remember keys, made an hour here so only the event can explain a 401."""
    monkeypatch.setattr(router_access, "CACHE_SECONDS", 3600.0)
    monkeypatch.setattr(gateway_keystore, "CACHE_SECONDS", 3600.0)
    replicas = [
        gateway_for(nats_url, subjects, migrated_database_url, tmp_path / name)
        for name in ("gw-a", "gw-b")
    ]
    for replica in replicas:
        await start_messaging(replica)
    try:
        stack.router.api.state.key_checker.require_key = True
        admin = (await create_key(migrated_database_url, "acme", "ops", ["admin"])).token
        app = await create_key(migrated_database_url, "acme", "app", ["infer", "read"])
        accepted = await stack.client.post(
            "/v1/chat/completions", json=chat(BASE), headers=bearer(app.token)
        )
        b_api = httpx.ASGITransport(app=replicas[1].api)
        async with httpx.AsyncClient(transport=b_api, base_url="http://gw-b") as gw_b:
            b_before = await gw_b.get("/v1/keys", headers=bearer(app.token))
            a_api = httpx.ASGITransport(app=replicas[0].api)
            async with httpx.AsyncClient(transport=a_api, base_url="http://gw-a") as gw_a:
                revoked = await gw_a.delete(f"/v1/keys/{app.row.id}", headers=bearer(admin))

            async def router_refuses() -> bool:
                response = await stack.client.post(
                    "/v1/chat/completions", json=chat(BASE), headers=bearer(app.token)
                )
                return response.status_code == 401

            async def replica_b_refuses() -> bool:
                response = await gw_b.get("/v1/keys", headers=bearer(app.token))
                return response.status_code == 401

            await eventually(router_refuses, what="the router refusing the revoked key")
            await eventually(replica_b_refuses, what="gateway B refusing the revoked key")
    finally:
        for replica in replicas:
            await stop_messaging(replica)
    assert accepted.status_code == 200
    assert b_before.status_code == 403  # verified (and remembered): the key is no admin
    assert revoked.status_code == 204
