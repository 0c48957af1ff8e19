"""Listing jobs: filtered by status in the database, paged without skipping or repeating a job
(SQLite and PostgreSQL; the trainer's API over its real tables, no bus needed to read)."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from contracts.envelope import utc_now
from libs.messaging import Subjects
from libs.runtime.assembly import assemble
from libs.storage import migrate_to_head
from services.trainer import DEFINITION
from services.trainer.tables import TrainerJob
from tests.conftest import unique_name
from tests.integration.trainer_harness import trainer_settings
from tests.support.identity import as_gateway

pytestmark = pytest.mark.integration
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def row(job_id: str, tenant: str, status: str, minutes_ago: int) -> TrainerJob:
    return TrainerJob(
        id=job_id,
        tenant=tenant,
        status=status,
        base_model="tiny-llama",
        training_file="a" * 64,
        backend="trl",
        method="supervised",
        hyperparameters={},
        created_at=utc_now() - timedelta(minutes=minutes_ago),
        lease_owner="elsewhere",  # no worker of this test would take it anyway
    )


@pytest.fixture
async def client(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The trainer's API over a database holding 25 jobs of one tenant (five per status,
    three of them created at the same instant) and one job of another tenant."""
    settings = trainer_settings(tmp_path, nats_url, subjects, database_url)
    await migrate_to_head(settings.resolved_database_url())
    service = assemble(DEFINITION, settings)
    tenant = unique_name("acme")
    async with service.context.database.transaction() as session:
        for n in range(25):
            minutes = 10 if n in (7, 8, 9) else 100 - n  # ties in the middle of a page
            session.add(row(f"ftjob-{n:02d}", tenant, STATUSES[n % 5], minutes))
        session.add(row("ftjob-other", "other", "running", 1))
    transport = httpx.ASGITransport(app=service.api)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://trainer",
        headers={"X-Tuneloop-Tenant": tenant},
        auth=as_gateway(),
    ) as http:
        yield http, tenant
    await service.context.database.dispose()


async def all_pages(http: httpx.AsyncClient, limit: int, **params: str | list[str]) -> list[str]:
    seen: list[str] = []
    after: str | None = None
    while True:
        query: dict[str, str | int | list[str]] = {**params, "limit": limit}
        if after:
            query["after"] = after
        body = (await http.get("/v1/fine_tuning/jobs", params=query)).json()
        seen.extend(job["id"] for job in body["data"])
        if not body["has_more"]:
            return seen
        after = body["data"][-1]["id"]


async def test_jobs_are_filtered_by_status_in_the_service(
    client: tuple[httpx.AsyncClient, str],
) -> None:
    http, _ = client
    running = (await http.get("/v1/fine_tuning/jobs", params={"status": "running"})).json()
    assert [j["id"] for j in running["data"]] == [
        "ftjob-21",
        "ftjob-16",
        "ftjob-11",
        "ftjob-06",
        "ftjob-01",
    ]
    assert {j["status"] for j in running["data"]} == {"running"}
    several = await http.get("/v1/fine_tuning/jobs?status=queued&status=failed&limit=100")
    assert {j["status"] for j in several.json()["data"]} == {"queued", "failed"}
    assert len(several.json()["data"]) == 10
    assert several.json()["has_more"] is False
    unknown = await http.get("/v1/fine_tuning/jobs", params={"status": "done"})
    assert unknown.status_code == 422
    assert "'running'" in unknown.text


async def test_pages_of_a_filter_hold_every_job_once(
    client: tuple[httpx.AsyncClient, str],
) -> None:
    http, _ = client
    everything = await all_pages(http, 100)
    assert len(everything) == 25
    assert "ftjob-other" not in everything
    assert await all_pages(http, 2) == everything
    assert await all_pages(http, 4, status=["running", "cancelled"]) == [
        j for j in everything if int(j[-2:]) % 5 in (1, 4)
    ]
    tied = [j for j in everything if j in ("ftjob-07", "ftjob-08", "ftjob-09")]
    assert tied == ["ftjob-09", "ftjob-08", "ftjob-07"]
