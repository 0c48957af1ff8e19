"""Direct callers of the router need a key with the infer scope, checked with the gateway
over NATS; a tenant reaches only its own models."""

from pathlib import Path

import pytest

from libs.messaging import Subjects
from libs.runtime.assembly import assemble
from libs.runtime.process import start_messaging, stop_messaging
from services.gateway import DEFINITION as GATEWAY
from services.gateway.bootstrap import create_key
from services.gateway.settings import GatewaySettings
from tests.integration.router.conftest import BASE, Stack
from tests.integration.router.test_router import chat, register_and_deploy
from tests.polling import eventually
from tests.support.identity import TEST_SECRET

pytestmark = pytest.mark.integration


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_direct_calls_are_checked_with_the_gateways_key_store(
    stack: Stack, nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    gateway = assemble(
        GATEWAY,
        GatewaySettings(
            home=tmp_path,
            nats_url=nats_url,
            subject_prefix=subjects.prefix,
            database_url=migrated_database_url,
            internal_secret=TEST_SECRET,
        ),
    )
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
