"""Webhooks: events delivered signed, retried after failures, not lost while the gateway is
down, and only the tenant's own."""

import hashlib
import hmac
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response

from contracts.events import JobCompleted, JobProgressed
from libs.messaging import Subjects
from services.gateway.bootstrap import create_key
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.test_gateway_auth import client_of, running_gateway
from tests.integration.test_gateway_live import served
from tests.polling import eventually

pytestmark = pytest.mark.integration
LOCAL_RECEIVERS = {"webhook_allowed_targets": "127.0.0.1/32"}
"""The receivers of these tests listen on loopback, which only an operator can allow."""


class Receiver:
    """Answers 500 to the first ``failures`` requests, then 200; keeps what it got."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.app = FastAPI()
        self.app.post("/hook")(self.hook)

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        self.received.append((dict(request.headers), body))
        return Response(status_code=500 if len(self.received) <= self.failures else 200)


def progress(job_id: str, tenant: str = "acme") -> JobProgressed:
    return JobProgressed(tenant=tenant, job_id=job_id, step=1, total_steps=2, epoch=0.5)


def valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers["x-tuneloop-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return headers["x-tuneloop-signature"] == f"sha256={expected.hexdigest()}"


async def test_events_reach_a_webhook_signed_after_retries_and_across_a_restart(
    tmp_path: Path, nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    receiver = Receiver(failures=2)
    job_id = unique_name("ftjob-")
    admin = (await create_key(migrated_database_url, "acme", "ops", ["admin"])).token
    async with served(receiver.app) as receiver_url, running_bus(nats_url, subjects) as bus:
        async with (
            running_gateway(
                tmp_path, nats_url, subjects, migrated_database_url, **LOCAL_RECEIVERS
            ) as gw,
            client_of(gw, admin) as client,
        ):
            created = await client.post(
                "/v1/webhooks",
                json={"url": f"{receiver_url}/hook", "event_types": ["job.*"]},
            )
            assert created.status_code == 201, created.text
            hook = created.json()
            listed = (await client.get("/v1/webhooks")).json()["data"]
            bad_type = await client.post(
                "/v1/webhooks",
                json={"url": f"{receiver_url}/hook", "event_types": ["inference.*"]},
            )
            bad_url = await client.post(
                "/v1/webhooks", json={"url": "file:///etc/passwd", "event_types": ["job.*"]}
            )
            await bus.publish_event(progress(job_id, tenant="globex"))
            first = progress(job_id)
            await bus.publish_event(first)
            await eventually(lambda: len(receiver.received) >= 3, timeout=30, what="third attempt")
            deliveries_url = f"/v1/webhooks/{hook['id']}/deliveries"

            async def delivered() -> bool:
                data = (await client.get(deliveries_url)).json()["data"]
                return bool(data) and data[0]["status"] == "delivered"

            await eventually(delivered, what="the delivery marked delivered")
            deliveries = (await client.get(deliveries_url)).json()
        # the gateway is down: the event waits in JetStream
        completed = JobCompleted(
            tenant="acme",
            job_id=job_id,
            base_model="tiny-llama",
            model_name="bot",
            fine_tuned_model="tiny-llama:bot:1",
            adapter_sha256="a" * 64,
            adapter_uri="file:///a",
            adapter_bytes=1,
            trained_tokens=1,
            wall_seconds=1.0,
        )
        await bus.publish_event(completed)
        async with running_gateway(
            tmp_path, nats_url, subjects, migrated_database_url, **LOCAL_RECEIVERS
        ):
            await eventually(
                lambda: any(h["x-tuneloop-event-id"] == completed.id for h, _ in receiver.received),
                timeout=30,
                what="the event sent while the gateway was down",
            )
    assert hook["secret"].startswith("whsec_")
    assert all("secret" not in h for h in listed)
    assert bad_type.status_code == 400
    assert bad_url.status_code == 422
    assert "scheme 'file' is not allowed" in bad_url.json()["error"]["message"]
    ids = [h["x-tuneloop-event-id"] for h, _ in receiver.received]
    assert ids[:3] == [first.id] * 3
    assert all(valid(hook["secret"], h, body) for h, body in receiver.received)
    assert all(b'"tenant":"acme"' in body for _, body in receiver.received)
    [delivery] = deliveries["data"]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3


async def test_internal_targets_are_refused_when_registered_and_when_delivered(
    tmp_path: Path, nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    """Without the operator's allowance, loopback and cloud metadata URLs are a 422 saying why;
    a webhook registered while they were allowed is not called once they no longer are."""
    receiver = Receiver(failures=0)
    admin = (await create_key(migrated_database_url, "acme", "ops", ["admin"])).token
    async with served(receiver.app) as receiver_url, running_bus(nats_url, subjects) as bus:
        async with (
            running_gateway(
                tmp_path, nats_url, subjects, migrated_database_url, **LOCAL_RECEIVERS
            ) as gw,
            client_of(gw, admin) as client,
        ):
            created = await client.post(
                "/v1/webhooks", json={"url": f"{receiver_url}/hook", "event_types": ["job.*"]}
            )
            assert created.status_code == 201, created.text
        async with (
            running_gateway(tmp_path, nats_url, subjects, migrated_database_url) as gw,
            client_of(gw, admin) as client,
        ):
            refused = {
                url: await client.post("/v1/webhooks", json={"url": url, "event_types": ["job.*"]})
                for url in (
                    f"{receiver_url}/hook",
                    "http://169.254.169.254/latest/meta-data/",
                    "http://[::1]:9/hook",
                    "http://10.0.0.8/hook",
                )
            }
            await bus.publish_event(progress(unique_name("ftjob-")))
            deliveries_url = f"/v1/webhooks/{created.json()['id']}/deliveries"

            async def given_up() -> bool:
                data = (await client.get(deliveries_url)).json()["data"]
                return bool(data) and data[0]["status"] == "failed"

            await eventually(given_up, timeout=30, what="the delivery refused")
            [delivery] = (await client.get(deliveries_url)).json()["data"]
            listed = (await client.get("/v1/webhooks")).json()["data"]
    assert {url: r.status_code for url, r in refused.items()} == dict.fromkeys(refused, 422)
    messages = [r.json()["error"]["message"] for r in refused.values()]
    assert "127.0.0.1, a loopback address" in messages[0]
    assert "TUNELOOP_GATEWAY_WEBHOOK_ALLOWED_TARGETS" in messages[0]
    assert "link-local" in messages[1]
    assert "loopback" in messages[2]
    assert "private" in messages[3]
    assert {r.json()["error"]["code"] for r in refused.values()} == {"webhook_url_not_allowed"}
    assert len(listed) == 1
    assert delivery["attempts"] == 1
    assert "not sent" in delivery["last_error"]
    assert "loopback" in delivery["last_error"]
    assert receiver.received == []
