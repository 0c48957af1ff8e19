"""Jobs record the API key that created them, and lists filter by it in the database
(SQLite and PostgreSQL): `owner=<key id>`, or `owner=me` for the calling key."""

import json
from pathlib import Path

import httpx
import pytest

from contracts.events import JobCreated
from libs.messaging import Subjects
from libs.runtime.assembly import assemble
from libs.storage import migrate_to_head
from libs.tenancy import Identity, SignedAs
from services.trainer import DEFINITION
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.test_trainer_job_listing import row
from tests.integration.trainer_harness import EventLog, running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.identity import SIGNER

pytestmark = pytest.mark.integration
ROW = {"messages": [{"role": "user", "content": "ping"}, {"role": "assistant", "content": "pong"}]}


def signed_as(tenant: str, key_id: str) -> SignedAs:
    return SignedAs(SIGNER, Identity(tenant, key_id, ("train", "read")))


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["data"]]


async def test_lists_filter_by_owner_in_the_service(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    settings = trainer_settings(tmp_path, nats_url, subjects, database_url)
    await migrate_to_head(settings.resolved_database_url())
    service = assemble(DEFINITION, settings)
    tenant = unique_name("acme")
    async with service.context.database.transaction() as session:
        for n in range(12):
            job = row(f"ftjob-{n:02d}", tenant, ("running", "failed")[n % 2], 100 - n)
            job.owner = ("k_alice", "k_bob", None)[n % 3]
            session.add(job)
        other = row("ftjob-other", "other", "running", 1)
        other.owner = "k_alice"  # the same key id in another tenant is not listed
        session.add(other)
    transport = httpx.ASGITransport(app=service.api)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=signed_as(tenant, "k_alice")
        ) as http:
            url = "/v1/fine_tuning/jobs"
            alice = ids(await http.get(url, params={"owner": "k_alice", "limit": 100}))
            mine = ids(await http.get(url, params={"owner": "me", "limit": 100}))
            bob_failed = ids(await http.get(url, params={"owner": "k_bob", "status": "failed"}))
            first = (await http.get(url, params={"owner": "me", "limit": 3})).json()
            after = first["data"][-1]["id"]
            rest = ids(await http.get(url, params={"owner": "me", "limit": 3, "after": after}))
            everyone = ids(await http.get(url, params={"limit": 100}))
            nobody = ids(await http.get(url, params={"owner": "k_nobody"}))
            too_long = await http.get(url, params={"owner": "k" * 129})
    finally:
        await service.context.database.dispose()
    assert alice == ["ftjob-09", "ftjob-06", "ftjob-03", "ftjob-00"]
    assert mine == alice
    assert bob_failed == ["ftjob-07", "ftjob-01"]
    assert [j["owner"] for j in first["data"]] == ["k_alice"] * 3
    assert first["has_more"] is True
    assert rest == ["ftjob-00"]
    assert len(everyone) == 12
    assert nobody == []
    assert too_long.status_code == 422


async def test_a_created_job_is_owned_by_the_calling_key(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    tenant = unique_name("acme")
    settings = trainer_settings(tmp_path, nats_url, subjects, database_url)
    log = EventLog()
    async with (
        running_trainer(settings) as service,
        running_bus(nats_url, subjects, log.router(subjects)),
    ):
        transport = httpx.ASGITransport(app=service.api)
        async with (
            httpx.AsyncClient(
                transport=transport, base_url="http://trainer", auth=signed_as(tenant, "k_alice")
            ) as alice,
            httpx.AsyncClient(
                transport=transport, base_url="http://trainer", auth=signed_as(tenant, "k_bob")
            ) as bob,
        ):
            uploaded = await alice.post(
                "/v1/files",
                files={"file": ("t.jsonl", json.dumps(ROW) + "\n", "application/jsonl")},
                data={"purpose": "fine-tune"},
            )
            assert uploaded.status_code == 200, uploaded.text
            body = {"model": str(tmp_path / "missing"), "training_file": uploaded.json()["id"]}
            created = await alice.post("/v1/fine_tuning/jobs", json=body)
            assert created.status_code == 200, created.text
            job_id = created.json()["id"]
            stored = (await bob.get(f"/v1/fine_tuning/jobs/{job_id}")).json()
            bobs = ids(await bob.get("/v1/fine_tuning/jobs", params={"owner": "me"}))
            alices = ids(await bob.get("/v1/fine_tuning/jobs", params={"owner": "k_alice"}))

            def announced() -> bool:
                return bool(log.of(job_id, JobCreated))

            await eventually(announced, what="job.created to be published")
    assert created.json()["owner"] == "k_alice"
    assert stored["owner"] == "k_alice"
    assert bobs == []
    assert alices == [job_id]
    [event] = log.of(job_id, JobCreated)
    assert event.owner == "k_alice"
