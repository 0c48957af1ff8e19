"""The pages' event streams: the session's key checked like a bearer key, the tenant's events of
one job or A/B test only, each named ``update`` after a ``ready``, resumed after Last-Event-ID."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.auth import Gatekeeper
from services.gateway.dashboard.live_pages import live_page_routes
from services.gateway.keystore import Caller
from services.gateway.live import LiveEvents, Selection

pytestmark = pytest.mark.unit
READER = "tl_reader01_secretsecret"
INFERRER = "tl_infer001_secretsecret"


class FakeKeys:
    async def authenticate(self, token: str) -> Caller | None:
        scopes = {READER: ("read",), INFERRER: ("infer",)}.get(token)
        return Caller(token[3:11], "acme", scopes) if scopes else None


class FakeLive:
    """Replays fixed stream entries (sequence, event) of the selection's concern through the
    real rendering."""

    def __init__(self, entries: list[tuple[int, dict[str, Any]]]) -> None:
        self.entries = entries
        self.starts: list[int | None] = []

    async def stream(
        self, selection: Selection, start: int | None, greeting: bytes, event_name: str | None
    ) -> AsyncIterator[bytes]:
        self.starts.append(start)
        yield greeting
        for sequence, event in self.entries:
            on_subject = event["type"].split(".")[0] == selection.concern  # as JetStream filters
            if on_subject and (start is None or sequence >= start):
                chunk = LiveEvents.render(
                    json.dumps(event).encode(), sequence, selection, event_name
                )
                if chunk is not None:
                    yield chunk


ENTRIES: list[tuple[int, dict[str, Any]]] = [
    (5, {"type": "job.progress", "tenant": "acme", "job_id": "ftjob-1", "step": 1}),
    (6, {"type": "job.progress", "tenant": "globex", "job_id": "ftjob-1", "step": 9}),
    (7, {"type": "job.progress", "tenant": "acme", "job_id": "ftjob-2", "step": 9}),
    (8, {"type": "job.completed", "tenant": "acme", "job_id": "ftjob-1"}),
    (9, {"type": "experiment.updated", "tenant": "acme", "experiment_id": "exp_1"}),
    (10, {"type": "evaluation.progressed", "tenant": "acme", "evaluation_id": "ev_1", "done": 1}),
    (11, {"type": "evaluation.progressed", "tenant": "acme", "evaluation_id": "ev_2", "done": 1}),
    (12, {"type": "model.registered", "tenant": "acme", "model_name": "bot", "version": 3}),
    (13, {"type": "model.registered", "tenant": "globex", "model_name": "bot", "version": 1}),
    (14, {"type": "model.routed", "tenant": "acme", "model_name": "other", "version": 1}),
    (15, {"type": "model.routed", "tenant": "acme", "model_name": "bot", "version": 3}),
    (16, {"type": "evaluation.completed", "tenant": "acme", "evaluation_id": "ev_1"}),
    (
        17,
        {"type": "retraining.triggered", "tenant": "acme", "run_id": "rtr_1", "model_name": "bot"},
    ),
    (
        18,
        {"type": "retraining.triggered", "tenant": "acme", "run_id": "rtr_2", "model_name": "bot"},
    ),
    (19, {"type": "retraining.updated", "tenant": "globex", "run_id": "rtr_1", "model_name": "b"}),
    (20, {"type": "retraining.updated", "tenant": "acme", "run_id": "rtr_1", "model_name": "bot"}),
    (21, {"type": "retraining.policy_changed", "tenant": "acme", "model_name": "bot"}),
    (
        22,
        {"type": "retraining.completed", "tenant": "acme", "run_id": "rtr_1", "model_name": "bot"},
    ),
]


@pytest.fixture
def live() -> FakeLive:
    return FakeLive(ENTRIES)


@pytest.fixture
async def site(live: FakeLive) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(live_page_routes(Gatekeeper(FakeKeys()), live))  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dash"
    ) as client:
        yield client


def parsed(text: str) -> list[dict[str, str]]:
    messages = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        messages.append(fields)
    return messages


async def test_a_signed_in_reader_gets_the_jobs_events_after_ready(
    site: httpx.AsyncClient, live: FakeLive
) -> None:
    site.cookies.set("tuneloop_key", READER)
    response = await site.get("/jobs/ftjob-1/stream")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    messages = parsed(response.text)
    assert messages[0] == {"event": "ready", "data": "{}"}
    assert [(m["id"], m["event"], json.loads(m["data"])["type"]) for m in messages[1:]] == [
        ("5", "update", "job.progress"),
        ("8", "update", "job.completed"),
    ]
    assert live.starts == [None]


async def test_a_reconnection_resumes_after_the_last_event_id(
    site: httpx.AsyncClient, live: FakeLive
) -> None:
    site.cookies.set("tuneloop_key", READER)
    response = await site.get("/jobs/ftjob-1/stream", headers={"Last-Event-ID": "5"})
    assert [m.get("id") for m in parsed(response.text)] == [None, "8"]
    experiment = await site.get("/experiments/exp_1/stream")
    assert [m.get("id") for m in parsed(experiment.text)] == [None, "9"]
    assert live.starts == [6, None]


async def test_an_evaluations_and_a_models_pages_get_their_own_events(
    site: httpx.AsyncClient, live: FakeLive
) -> None:
    site.cookies.set("tuneloop_key", READER)
    evaluation = parsed((await site.get("/evaluations/ev_1/stream")).text)
    model = parsed((await site.get("/models/bot/stream")).text)
    assert [(m["id"], json.loads(m["data"])["type"]) for m in evaluation[1:]] == [
        ("10", "evaluation.progressed"),
        ("16", "evaluation.completed"),
    ]
    assert [(m["id"], json.loads(m["data"])["type"]) for m in model[1:]] == [
        ("12", "model.registered"),
        ("15", "model.routed"),
    ]
    assert evaluation[0]["event"] == model[0]["event"] == "ready"


async def test_a_retraining_runs_page_gets_that_runs_events_only(
    site: httpx.AsyncClient, live: FakeLive
) -> None:
    site.cookies.set("tuneloop_key", READER)
    response = await site.get("/retraining/runs/rtr_1/stream", headers={"Last-Event-ID": "16"})
    assert response.status_code == 200
    messages = parsed(response.text)
    assert messages[0] == {"event": "ready", "data": "{}"}
    assert [(m["id"], m["event"], json.loads(m["data"])["type"]) for m in messages[1:]] == [
        ("17", "update", "retraining.triggered"),
        ("20", "update", "retraining.updated"),
        ("22", "update", "retraining.completed"),
    ]
    assert live.starts == [17]


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        (None, 401, "missing_api_key"),
        ("tl_unknown1_secretsecret", 401, "invalid_api_key"),
        (INFERRER, 403, "insufficient_scope"),
    ],
)
async def test_no_events_without_a_key_that_may_read(
    site: httpx.AsyncClient, live: FakeLive, key: str | None, status: int, code: str
) -> None:
    if key:
        site.cookies.set("tuneloop_key", key)
    for path in (
        "/experiments/exp_1/stream",
        "/evaluations/ev_1/stream",
        "/models/bot/stream",
        "/retraining/runs/rtr_1/stream",
    ):
        response = await site.get(path)
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
    assert live.starts == []
