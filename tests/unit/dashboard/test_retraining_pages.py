"""The retraining page: policies and runs in words, the switches, the creation form."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.gateway.dashboard import mount_dashboard

pytestmark = pytest.mark.unit
KEY = "tl_abcd1234_secretsecret"
NOW = "2026-11-22T06:00:00Z"

POLICY: dict[str, Any] = {
    "model_name": "support-bot",
    "enabled": True,
    "trigger": {"gold_stars": 50, "schedule_seconds": 86400},
    "dataset": "support-bot-retraining",
    "gold_stars": 130,
    "new_gold_stars": 30,
    "next_scheduled_at": "2026-11-23T06:00:00Z",
    "waiting_for": None,
    "active_run_id": None,
    "runs": 1,
}
RUN: dict[str, Any] = {
    "id": "rtr_1",
    "model_name": "support-bot",
    "status": "skipped",
    "trigger": "gold_stars",
    "reason": "50 new gold-star examples since the last run (the policy retrains every 50)",
    "summary": "skipped: the candidate scored 0.200 against 0.400; the serving version stays",
    "decision": "support-bot@2-cafe scored 0.200 normalized_match against 0.400",
    "dataset": "support-bot-retraining",
    "dataset_version": 2,
    "train_rows": 45,
    "test_rows": 5,
    "job_id": "ftjob-abc",
    "base_model": "tiny-llama",
    "training_metrics": {"train_loss": 0.25},
    "candidate_serving_name": "support-bot@2-cafe",
    "serving_name": "support-bot@1-base",
    "experiment_id": None,
    "verdict": None,
    "error": None,
    "history": [
        {"status": "triggered", "at": NOW, "summary": "50 new gold-star examples"},
        {"status": "exporting", "at": NOW, "summary": "exporting support-bot-retraining"},
        {"status": "training", "at": NOW, "summary": "exported v2; training ftjob-abc"},
        {"status": "evaluating", "at": NOW, "summary": "registered as support-bot@2-cafe"},
        {"status": "skipped", "at": NOW, "summary": "skipped: worse"},
    ],
    "created_at": NOW,
    "updated_at": NOW,
    "finished_at": NOW,
}
ACTIVE_RUN: dict[str, Any] = {
    **RUN,
    "id": "rtr_2",
    "status": "training",
    "summary": "training ftjob-abc",
    "decision": None,
    "candidate_serving_name": None,
    "history": RUN["history"][:3],
    "finished_at": None,
}


class FakeRetraining:
    def __init__(self) -> None:
        self.posted: list[tuple[str, Any]] = []

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.get("/v1/retraining/policies")
        async def policies() -> Any:
            return [POLICY]

        @api.get("/v1/retraining/runs")
        async def runs(limit: int = 50) -> Any:
            return {"data": [RUN]}

        @api.get("/v1/retraining/runs/{run_id}")
        async def run(run_id: str) -> Any:
            runs = {"rtr_1": RUN, "rtr_2": ACTIVE_RUN}
            if run_id not in runs:
                return JSONResponse({"error": {"code": "not_found", "message": "no run"}}, 404)
            return runs[run_id]

        @api.post("/v1/retraining/policies")
        async def create(request: Request) -> Any:
            body = await request.json()
            self.posted.append(("create", body))
            if body["model_name"] == "taken":
                message = "'taken' has a retraining policy already"
                return JSONResponse({"error": {"code": "conflict", "message": message}}, 409)
            return {**POLICY, "model_name": body["model_name"]}

        @api.post("/v1/retraining/policies/{model}/{action}")
        async def act(model: str, action: str) -> Any:
            self.posted.append((action, model))
            return {**RUN, "id": "rtr_2"} if action == "runs" else POLICY

        return api


@pytest.fixture
def fake() -> FakeRetraining:
    return FakeRetraining()


@pytest.fixture
async def browser(fake: FakeRetraining) -> AsyncIterator[httpx.AsyncClient]:
    v1 = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app()), base_url="http://v1")
    site = FastAPI()
    mount_dashboard(site, v1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site), base_url="http://dash"
    ) as client:
        client.cookies.set("tuneloop_key", KEY)
        yield client
    await v1.aclose()


async def test_policies_and_runs_read_in_words(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/retraining")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<h1>Continuous retraining</h1>" in text
    assert "every 50 new gold stars or every 24 h (with new data)" in text
    assert "30 of 50" in text
    assert 'action="/retraining/support-bot/disable"' in text
    assert 'action="/retraining/support-bot/run"' in text
    assert 'data-run-status="skipped"' in text
    assert "skipped (not better)" in text
    assert RUN["summary"] in text
    assert 'href="/retraining" aria-current="page"' in text


async def test_switching_off_and_running_now_go_through_the_api(
    browser: httpx.AsyncClient, fake: FakeRetraining
) -> None:
    off = await browser.post("/retraining/support-bot/disable")
    assert off.status_code == 303
    assert off.headers["location"].startswith("/retraining?notice=Retraining%20of%20support-bot")
    now = await browser.post("/retraining/support-bot/run")
    assert now.status_code == 303
    assert now.headers["location"].startswith("/retraining/runs/rtr_2")
    assert fake.posted == [("disable", "support-bot"), ("runs", "support-bot")]


async def test_the_form_creates_a_policy_or_says_why_not(
    browser: httpx.AsyncClient, fake: FakeRetraining
) -> None:
    form = {
        "model_name": "triage",
        "gold_stars": "20",
        "schedule_hours": "12",
        "margin": "0.05",
        "treatment_weight": "0.3",
        "base_model": "",
    }
    created = await browser.post("/retraining/policies", data=form)
    assert created.status_code == 303
    assert fake.posted[0] == (
        "create",
        {
            "model_name": "triage",
            "trigger": {"gold_stars": 20, "schedule_seconds": 43200},
            "evaluation": {"margin": 0.05},
            "experiment": {"treatment_weight": 0.3},
        },
    )
    refused = await browser.post("/retraining/policies", data={**form, "model_name": "taken"})
    assert refused.status_code == 200
    assert "The policy was not created" in refused.text
    assert "has a retraining policy already" in refused.text
    assert 'value="taken"' in refused.text


async def test_a_run_page_tells_each_step_and_the_decision(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/retraining/runs/rtr_1")
    assert page.status_code == 200, page.text
    text = page.text
    assert RUN["decision"] in text
    assert 'href="/jobs/ftjob-abc"' in text
    assert "final loss 0.2500" in text
    assert text.count('<li><span class="muted">') == len(RUN["history"])
    assert "data-live-reload" not in text
    assert "data-live-stream" not in text  # a finished run stays still
    missing = await browser.get("/retraining/runs/rtr_9")
    assert missing.status_code == 404


async def test_a_running_runs_page_follows_the_runs_events(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/retraining/runs/rtr_2")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'data-live-stream="/retraining/runs/rtr_2/stream" data-live-page' in text
    assert 'data-fragment="run"' in text
    assert "data-live-reload" not in text  # no polling unless the stream cannot be opened
    assert '<li aria-current="step">training</li>' in text
