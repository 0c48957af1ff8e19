"""Live job updates as server-sent events from JetStream: tenant-filtered, resumable with
Last-Event-ID, through a real HTTP server."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from contracts.events import JobProgressed
from libs.messaging import Subjects
from libs.supervision.process import free_port
from services.gateway.bootstrap import create_key
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.test_gateway_auth import running_gateway

pytestmark = pytest.mark.integration


@asynccontextmanager
async def served(app: object) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")  # type: ignore[arg-type]
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def progress(job_id: str, step: int, tenant: str = "acme") -> JobProgressed:
    return JobProgressed(tenant=tenant, job_id=job_id, step=step, total_steps=10, epoch=0.1)


async def read_events(lines: AsyncIterator[str], count: int) -> list[tuple[int, dict[str, object]]]:
    events: list[tuple[int, dict[str, object]]] = []
    event_id = 0
    async for line in lines:
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("data: "):
            events.append((event_id, json.loads(line[6:])))
            if len(events) == count:
                return events
    raise AssertionError("the stream ended early")


async def test_a_jobs_stream_replays_from_last_event_id_and_shows_only_the_tenants_events(
    tmp_path: Path, nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    job_id = unique_name("ftjob-")
    async with (
        running_gateway(tmp_path, nats_url, subjects, migrated_database_url) as gateway,
        running_bus(nats_url, subjects) as bus,
        served(gateway.api) as url,
    ):
        key = (await create_key(migrated_database_url, "acme", "viewer", ["read"])).token
        first = await bus.publish_event(progress(job_id, 1))
        await bus.publish_event(progress(job_id, 2))
        headers = {"Authorization": f"Bearer {key}", "Last-Event-ID": str(first.seq - 1)}
        stream_url = f"{url}/v1/fine_tuning/jobs/{job_id}/stream"
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream("GET", stream_url, headers=headers) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            replayed = await read_events(lines, 2)
            await bus.publish_event(progress(job_id, 3, tenant="globex"))
            await bus.publish_event(progress(unique_name("ftjob-"), 4))
            last = await bus.publish_event(progress(job_id, 5))
            live = await read_events(lines, 1)
        async with httpx.AsyncClient(timeout=10) as client:
            unauthenticated = await client.get(stream_url)
    assert [(i, e["step"]) for i, e in replayed] == [(first.seq, 1), (first.seq + 1, 2)]
    assert live == [(last.seq, live[0][1])]
    assert live[0][1]["step"] == 5
    assert live[0][1]["tenant"] == "acme"
    assert unauthenticated.status_code == 401


async def test_the_dashboards_job_stream_takes_the_session_key_and_resumes(
    tmp_path: Path, nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    """What a browser's EventSource gets: ``ready``, then the job's events as ``update``."""
    job_id = unique_name("ftjob-")
    async with (
        running_gateway(tmp_path, nats_url, subjects, migrated_database_url) as gateway,
        running_bus(nats_url, subjects) as bus,
        served(gateway.api) as url,
    ):
        key = (await create_key(migrated_database_url, "acme", "viewer", ["read"])).token
        first = await bus.publish_event(progress(job_id, 1))
        stream_url = f"{url}/jobs/{job_id}/stream"
        async with (
            httpx.AsyncClient(timeout=30, cookies={"tuneloop_key": key}) as client,
            client.stream("GET", stream_url) as response,
        ):
            assert response.status_code == 200
            lines = response.aiter_lines()
            assert [await anext(lines) for _ in range(3)] == ["event: ready", "data: {}", ""]
            await bus.publish_event(progress(job_id, 3, tenant="globex"))
            second = await bus.publish_event(progress(job_id, 2))
            [(seen_id, seen)] = await read_events(lines, 1)
        resume = {"Last-Event-ID": str(first.seq)}
        async with (
            httpx.AsyncClient(timeout=30, cookies={"tuneloop_key": key}) as client,
            client.stream("GET", stream_url, headers=resume) as response,
        ):
            ready, *replayed = await read_events(response.aiter_lines(), 2)
        async with httpx.AsyncClient(timeout=10) as client:
            signed_out = await client.get(stream_url)
    assert (seen_id, seen["step"], seen["tenant"]) == (second.seq, 2, "acme")
    assert ready == (0, {})
    assert [(i, e["step"]) for i, e in replayed] == [(second.seq, 2)]
    assert signed_out.status_code == 401
