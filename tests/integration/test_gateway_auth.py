"""The gateway's key store, key API, audit log and key query, on real NATS, SQLite and
PostgreSQL."""

import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from contracts.queries import AuthenticateQuery, AuthenticateReply
from libs.messaging import Subjects
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from libs.storage import Database, migrate_to_head
from services.gateway import DEFINITION
from services.gateway.bootstrap import create_key, ensure_admin_key
from services.gateway.settings import GatewaySettings
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.support.identity import TEST_SECRET

pytestmark = pytest.mark.integration


@asynccontextmanager
async def running_gateway(
    home: Path, nats_url: str, subjects: Subjects, database_url: str, **extra: Any
) -> AsyncIterator[AssembledService]:
    await migrate_to_head(database_url)
    settings = GatewaySettings(
        home=home,
        nats_url=nats_url,
        subject_prefix=subjects.prefix,
        database_url=database_url,
        http_port=0,
        **{"internal_secret": TEST_SECRET, **extra},
    )
    service = assemble(DEFINITION, settings)
    await start_messaging(service)
    try:
        yield service
    finally:
        await stop_messaging(service)


def client_of(service: AssembledService, key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.api), base_url="http://gw", headers=headers
    )


async def test_the_first_admin_key_is_made_once_and_kept_private(
    tmp_path: Path, migrated_database_url: str
) -> None:
    key = await ensure_admin_key(migrated_database_url, tmp_path)
    assert key is not None
    assert key.startswith("tl_")
    key_file = tmp_path / "admin.key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert await ensure_admin_key(migrated_database_url, tmp_path) is None
    assert key_file.read_text().strip() == key

    database = Database(migrated_database_url)
    try:
        async with database.session() as session:
            rows = (await session.execute(text("select * from gateway_api_keys"))).all()
    finally:
        await database.dispose()
    assert len(rows) == 1
    secret = key.split("_", 2)[2]
    assert all(secret not in str(value) for value in rows[0])


async def test_keys_are_made_listed_used_and_revoked_through_the_api(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    async with running_gateway(tmp_path, nats_url, subjects, database_url) as gateway:
        admin = (await create_key(database_url, "default", "ops", ["admin"])).token
        async with client_of(gateway, admin) as client:
            created = await client.post(
                "/v1/keys", json={"name": "ci", "scopes": ["train", "read"], "tenant": "acme"}
            )
            assert created.status_code == 201, created.text
            body = created.json()
            listed = (await client.get("/v1/keys")).json()["data"]
            acme_key = body["key"]
            async with client_of(gateway, acme_key) as acme:
                cannot_admin = await acme.get("/v1/keys")
            revoked = await client.delete(f"/v1/keys/{body['id']}")
            again = await client.delete("/v1/keys/nokey000")
            audit = (await client.get("/v1/audit")).json()["data"]
        async with client_of(gateway, acme_key) as acme:
            after_revoke = await acme.get("/v1/keys")
        async with client_of(gateway) as anonymous:
            no_key = await anonymous.get("/v1/audit")
    assert body["tenant"] == "acme"
    assert body["scopes"] == ["train", "read"]
    assert acme_key.startswith(f"tl_{body['id']}_")
    assert {k["id"] for k in listed} >= {body["id"]}
    assert all("key" not in k for k in listed)
    assert cannot_admin.status_code == 403
    assert cannot_admin.json()["error"]["code"] == "insufficient_scope"
    assert revoked.status_code == 204
    assert again.status_code == 404
    assert after_revoke.status_code == 401
    assert after_revoke.json()["error"]["code"] == "invalid_api_key"
    assert no_key.status_code == 401
    assert [(e["method"], e["path"], e["status"]) for e in audit] == [
        ("DELETE", "/v1/keys/nokey000", 404),
        ("DELETE", f"/v1/keys/{body['id']}", 204),
        ("POST", "/v1/keys", 201),
    ]


async def test_any_key_reads_what_it_is(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    tenant = unique_name("acme")
    async with running_gateway(tmp_path, nats_url, subjects, database_url) as gateway:
        reader = await create_key(database_url, tenant, "dashboards", ["read"])
        caller = await create_key(database_url, tenant, "chat app", ["infer"])
        answers = {}
        for created in (reader, caller):
            async with client_of(gateway, created.token) as client:
                answers[created.row.id] = await client.get("/v1/me")
        async with client_of(gateway) as anonymous:
            no_key = await anonymous.get("/v1/me")
    assert answers[reader.row.id].status_code == 200, answers[reader.row.id].text
    assert answers[reader.row.id].json() == {
        "id": reader.row.id,
        "tenant": tenant,
        "name": "dashboards",
        "scopes": ["read"],
    }
    assert answers[caller.row.id].status_code == 200, answers[caller.row.id].text
    assert answers[caller.row.id].json()["scopes"] == ["infer"]
    assert no_key.status_code == 401


async def test_a_tenant_admin_manages_only_its_own_tenants_keys(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    async with running_gateway(tmp_path, nats_url, subjects, database_url) as gateway:
        operator = (await create_key(database_url, "default", "ops", ["admin"])).token
        acme_admin = (await create_key(database_url, "acme", "acme ops", ["admin"])).token
        globex_key = await create_key(database_url, "globex", "globex", ["read"])
        async with client_of(gateway, acme_admin) as acme:
            for_globex = await acme.post(
                "/v1/keys", json={"name": "x", "scopes": ["read"], "tenant": "globex"}
            )
            own = (await acme.get("/v1/keys")).json()["data"]
            revoke_other = await acme.delete(f"/v1/keys/{globex_key.row.id}")
            acme_audit = (await acme.get("/v1/audit")).json()["data"]
        async with client_of(gateway, operator) as ops:
            everyone = (await ops.get("/v1/keys")).json()["data"]
            bad_tenant = await ops.post(
                "/v1/keys", json={"name": "x", "scopes": ["read"], "tenant": "../etc"}
            )
            bad_scope = await ops.post("/v1/keys", json={"name": "x", "scopes": ["root"]})
    assert for_globex.status_code == 403
    assert {k["tenant"] for k in own} == {"acme"}
    assert revoke_other.status_code == 404
    assert {k["tenant"] for k in everyone} == {"default", "acme", "globex"}
    assert bad_tenant.status_code == 422
    assert bad_scope.status_code == 422
    assert {e["tenant"] for e in acme_audit} == {"acme"}


async def test_the_router_can_ask_the_gateway_who_a_key_belongs_to(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    async with (
        running_gateway(tmp_path, nats_url, subjects, database_url),
        running_bus(nats_url, subjects) as bus,
    ):
        created = await create_key(database_url, "acme", "app", ["infer"])

        async def ask(key: str) -> AuthenticateReply:
            return await bus.ask(
                AuthenticateQuery(key=key), "gateway", "authenticate", AuthenticateReply
            )

        good = await ask(created.token)
        wrong_secret = await ask(created.token[:-4] + "AAAA")
        garbage = await ask("not-a-key")
    assert good == AuthenticateReply(
        valid=True, key_id=created.row.id, tenant="acme", scopes=["infer"]
    )
    assert wrong_secret == AuthenticateReply(valid=False)
    assert garbage == AuthenticateReply(valid=False)
