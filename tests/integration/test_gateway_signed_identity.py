"""The gateway signs what it forwards and a service trusts nothing else: through the gateway a
key acts for its tenant; straight at the service's port, a claimed tenant, a signature of
another secret or one copied to another route is a 401 (real HTTP, NATS and database)."""

from pathlib import Path

import httpx
import pytest

from libs.messaging import Subjects
from libs.tenancy import Identity, IdentitySigner
from services.gateway.bootstrap import create_key
from tests.integration.test_gateway_auth import running_gateway
from tests.integration.test_gateway_live import served
from tests.integration.trainer_harness import running_trainer, trainer_settings
from tests.support.identity import SIGNER

pytestmark = pytest.mark.integration
ROW = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'


async def test_only_what_the_gateway_signed_reaches_a_tenants_data(
    tmp_path: Path, nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    settings = trainer_settings(tmp_path / "trainer", nats_url, subjects, migrated_database_url)
    async with (
        running_trainer(settings) as trainer,
        served(trainer.api) as trainer_url,
        running_gateway(tmp_path / "gateway", nats_url, subjects, migrated_database_url) as gw,
        served(gw.api) as gateway_url,
    ):
        trainer.context.http_url = trainer_url  # what its health reply tells the gateway
        key = (await create_key(migrated_database_url, "acme", "app", ["train", "read"])).token
        async with httpx.AsyncClient(
            base_url=gateway_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as through_gateway:
            uploaded = await through_gateway.post(
                "/v1/files",
                files={"file": ("t.jsonl", ROW * 3, "application/jsonl")},
                data={"purpose": "fine-tune"},
                headers={"X-Tuneloop-Tenant": "globex"},  # dropped by the gateway
            )
            listed = await through_gateway.get("/v1/files")
        files = "/v1/files"
        async with httpx.AsyncClient(base_url=trainer_url, timeout=30) as direct:
            claimed = await direct.get(files, headers={"X-Tuneloop-Tenant": "acme"})
            bare = await direct.get(files)
            other_secret = IdentitySigner("not-the-internal-secret-of-this-stack!")
            forged = await direct.get(
                files, headers=other_secret.headers(Identity("acme"), "GET", files)
            )
            for_a_delete = SIGNER.headers(Identity("acme"), "DELETE", f"{files}/x")
            replayed = await direct.get(files, headers=for_a_delete)
            stale = await direct.get(
                files, headers=SIGNER.headers(Identity("acme"), "GET", files, now=1_000_000)
            )
            signed = await direct.get(files, headers=SIGNER.headers(Identity("acme"), "GET", files))
    assert uploaded.status_code == 200, uploaded.text
    assert [f["id"] for f in listed.json()["data"]] == [uploaded.json()["id"]]
    assert [f["id"] for f in signed.json()["data"]] == [uploaded.json()["id"]]
    codes = {
        "claimed": claimed,
        "bare": bare,
        "forged": forged,
        "replayed": replayed,
        "stale": stale,
    }
    assert {name: r.status_code for name, r in codes.items()} == dict.fromkeys(codes, 401)
    assert claimed.json()["error"]["code"] == "unsigned_request"
    assert "claims tenant 'acme'" in claimed.json()["error"]["message"]
    assert forged.json()["error"]["code"] == "bad_identity_signature"
    assert replayed.json()["error"]["code"] == "bad_identity_signature"
    assert stale.json()["error"]["code"] == "expired_identity"
