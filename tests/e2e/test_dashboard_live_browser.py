"""The dashboard's live parts in headless Chromium, against a fake ``/v1`` and an event stream
the test feeds: a page changes when an event arrives, without reloading; when the stream cannot
be used, it falls back to asking again every few seconds.

The whole flow on a real stack is ``test_dashboard_browser.py``; this one pins down the
browser side (EventSource, fragments, fallback) in seconds.
"""

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from services.gateway.auth import Gatekeeper
from services.gateway.dashboard import mount_dashboard
from services.gateway.keystore import Caller
from services.gateway.live import LiveEvents, Selection
from tests.e2e.test_stack import free_port
from tests.polling import eventually_sync
from tests.unit.dashboard.fake_v1 import FakeV1, progress_event

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
KEY = "tl_abcd1234_secretsecret"
SAME_PAGE = "window.__tuneloopSamePage"


class FakeKeys:
    async def authenticate(self, token: str) -> Caller | None:
        return Caller("abcd1234", "default", ("read",)) if token == KEY else None


class FedLive:
    """Streams what the test pushes, rendered as the gateway renders JetStream events."""

    def __init__(self) -> None:
        self.queues: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]] = []

    async def stream(
        self, selection: Selection, start: int | None, greeting: bytes, event_name: str | None
    ) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        self.queues.append((asyncio.get_running_loop(), queue))
        yield greeting
        while True:
            sequence, event = await queue.get()
            data = json.dumps(event).encode()
            chunk = LiveEvents.render(data, sequence, selection, event_name)
            if chunk is not None:
                yield chunk

    def push(self, sequence: int, event: dict[str, Any]) -> None:
        """From the test's thread, to every open stream."""
        for loop, queue in self.queues:
            loop.call_soon_threadsafe(queue.put_nowait, (sequence, event))


@pytest.fixture
def fake() -> FakeV1:
    return FakeV1()


@pytest.fixture
def live() -> FedLive:
    return FedLive()


@pytest.fixture
def dashboard_url(fake: FakeV1, live: FedLive) -> Iterator[str]:
    site = FastAPI()
    v1 = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app()), base_url="http://v1")
    mount_dashboard(site, v1, Gatekeeper(FakeKeys()), live)  # type: ignore[arg-type]
    port = free_port()
    config = uvicorn.Config(
        site,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually_sync(lambda: server.started, what="the dashboard to listen")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def page(dashboard_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        context = browser.new_context()
        context.add_cookies([{"name": "tuneloop_key", "value": KEY, "url": dashboard_url}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            browser.close()


def mark_this_page(page: Any) -> None:
    """A mark a reload would wipe out."""
    page.evaluate(f"{SAME_PAGE} = true")


def test_a_job_page_shows_news_as_it_streams_in_without_reloading(
    page: Any, dashboard_url: str, fake: FakeV1, live: FedLive
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{dashboard_url}/jobs/ftjob-2")
    follower = page.locator("[data-live-stream]")
    expect(follower).to_have_attribute("data-live-mode", "stream")
    expect(page.locator('[data-fragment="events"]')).to_contain_text("Step 10/20")
    mark_this_page(page)

    fake.job_events.append(progress_event(15, 0.8))
    live.push(41, {"type": "job.progress", "tenant": "default", "job_id": "ftjob-2", "step": 15})
    expect(page.locator('[data-fragment="events"]')).to_contain_text("Step 15/20")
    expect(page.locator('[data-fragment="progress"] progress')).to_have_attribute("value", "75")
    expect(follower).to_have_attribute("data-live-events", "1")
    assert page.evaluate(SAME_PAGE) is True

    live.push(42, {"type": "job.progress", "tenant": "globex", "job_id": "ftjob-2", "step": 16})
    live.push(43, {"type": "job.progress", "tenant": "default", "job_id": "ftjob-9", "step": 16})
    fake.job_events.append(progress_event(18, 0.7))
    live.push(44, {"type": "job.progress", "tenant": "default", "job_id": "ftjob-2", "step": 18})
    expect(page.locator('[data-fragment="events"]')).to_contain_text("Step 18/20")
    expect(follower).to_have_attribute("data-live-events", "2")  # others' events never arrive
    assert page.evaluate(SAME_PAGE) is True


def test_without_a_usable_stream_the_job_page_asks_again(
    page: Any, dashboard_url: str, fake: FakeV1
) -> None:
    from playwright.sync_api import expect

    page.route("**/jobs/ftjob-2/stream", lambda route: route.fulfill(status=503, body="down"))
    page.goto(f"{dashboard_url}/jobs/ftjob-2")
    follower = page.locator("[data-live-stream]")
    expect(follower).to_have_attribute("data-live-mode", "poll")
    mark_this_page(page)
    fake.job_events.append(progress_event(15, 0.8))
    expect(page.locator('[data-fragment="events"]')).to_contain_text("Step 15/20")
    assert page.evaluate(SAME_PAGE) is True


def test_an_ab_test_page_shows_its_verdict_when_it_streams_in(
    page: Any, dashboard_url: str, fake: FakeV1, live: FedLive
) -> None:
    from playwright.sync_api import expect

    fake.evaluated = False
    page.goto(f"{dashboard_url}/experiments/exp_1")
    expect(page.locator('[data-verdict="pending"]')).to_be_visible()
    expect(page.locator("[data-live-stream]")).to_have_attribute("data-live-mode", "stream")
    mark_this_page(page)
    page.get_by_label("Note").first.fill("typed before the verdict")

    fake.evaluated = True
    live.push(7, {"type": "experiment.concluded", "tenant": "default", "experiment_id": "exp_1"})
    expect(page.locator('[data-verdict="treatment_wins"]')).to_be_visible()
    expect(page.get_by_text("The new version is better: promote it.")).to_be_visible()
    expect(page.locator("svg.interval-chart line.interval")).to_have_count(3)
    expect(page.get_by_label("Note").first).to_have_value("typed before the verdict")
    assert page.evaluate(SAME_PAGE) is True


def test_a_comparison_shows_new_answers_as_the_evaluation_streams_in(
    page: Any, dashboard_url: str, fake: FakeV1, live: FedLive
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{dashboard_url}/compare?model=support-bot&a=1&b=2&evaluation=ev_1")
    follower = page.locator("[data-live-stream]")
    expect(follower).to_have_attribute("data-live-mode", "stream")
    expect(page.get_by_text("1 of 2 prompt(s) answered")).to_be_visible()
    mark_this_page(page)
    page.get_by_label("Prompts, one per line").fill("typed while it runs")

    fake.evaluation_done = 2
    live.push(3, {"type": "evaluation.progressed", "tenant": "default", "evaluation_id": "ev_1"})
    expect(page.get_by_text("2 of 2 prompt(s) answered")).to_be_visible()
    expect(page.get_by_text("new answer 2")).to_be_visible()
    expect(follower).to_have_attribute("data-live-events", "1")
    expect(follower).to_have_attribute("data-live-done", "")  # nothing more to wait for
    expect(follower).to_have_attribute("data-live-mode", "stream")
    expect(page.get_by_label("Prompts, one per line")).to_have_value("typed while it runs")
    assert page.evaluate(SAME_PAGE) is True


def test_the_wizard_moves_on_when_the_registry_and_the_router_announce_the_version(
    page: Any, dashboard_url: str, fake: FakeV1, live: FedLive
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{dashboard_url}/fine-tune/jobs/ftjob-3?model_name=support-bot")
    waiting = page.locator('[data-live-stream="/models/support-bot/stream"]')
    expect(waiting).to_have_attribute("data-live-mode", "stream")
    expect(page.get_by_text("Waiting for the registry")).to_be_visible()
    fake.later_versions.append(3)
    live.push(5, {"type": "model.registered", "tenant": "default", "model_name": "other"})
    live.push(6, {"type": "model.registered", "tenant": "default", "model_name": "support-bot"})
    expect(page.get_by_role("button", name="Deploy as candidate")).to_be_visible()
    expect(page.locator("[data-live-stream]")).to_have_count(0)

    fake.served.remove("support-bot@1-abcd1")  # the router does not serve the control yet
    page.goto(f"{dashboard_url}/fine-tune/jobs/ftjob-2/test?model_name=support-bot")
    waiting = page.locator('[data-live-stream="/models/support-bot/stream"]')
    expect(waiting).to_have_attribute("data-live-mode", "stream")
    expect(page.get_by_text("The router is getting version 2 ready")).to_be_visible()
    fake.served.extend(["support-bot@1-abcd1", "support-bot@2-abcd2"])
    live.push(7, {"type": "model.routed", "tenant": "default", "model_name": "support-bot"})
    expect(page.get_by_role("button", name="Start the A/B test")).to_be_visible()
    expect(page.locator('input[type="range"]')).to_be_visible()


def retraining_event(sequence: int, kind: str, run_id: str, live: FedLive) -> None:
    event = {"type": f"retraining.{kind}", "tenant": "default", "run_id": run_id}
    live.push(sequence, {**event, "model_name": "support-bot"})


def test_a_retraining_run_page_moves_on_as_the_runs_events_stream_in(
    page: Any, dashboard_url: str, fake: FakeV1, live: FedLive
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{dashboard_url}/retraining/runs/rtr_1")
    follower = page.locator('[data-live-stream="/retraining/runs/rtr_1/stream"]')
    status = page.locator("[data-run-status]")
    expect(follower).to_have_attribute("data-live-mode", "stream")
    expect(status).to_have_attribute("data-run-status", "exporting")
    mark_this_page(page)

    fake.retraining_steps.append("training")
    retraining_event(8, "updated", "rtr_2", live)  # another run's: never arrives
    retraining_event(9, "updated", "rtr_1", live)
    expect(status).to_have_attribute("data-run-status", "training")
    expect(page.get_by_role("link", name="ftjob-2")).to_be_visible()
    expect(follower).to_have_attribute("data-live-events", "1")
    assert page.evaluate(SAME_PAGE) is True

    fake.retraining_steps.extend(["evaluating", "skipped"])
    retraining_event(10, "completed", "rtr_1", live)
    expect(status).to_have_attribute("data-run-status", "skipped")
    expect(page.get_by_text("step skipped")).to_be_visible()
    expect(follower).to_have_attribute("data-live-done", "")  # nothing more to wait for
    expect(follower).to_have_attribute("data-live-mode", "stream")
    assert page.evaluate(SAME_PAGE) is True


def test_without_a_usable_stream_the_retraining_run_page_asks_again(
    page: Any, dashboard_url: str, fake: FakeV1
) -> None:
    from playwright.sync_api import expect

    page.route("**/retraining/runs/rtr_1/stream", lambda route: route.fulfill(status=503))
    page.goto(f"{dashboard_url}/retraining/runs/rtr_1")
    expect(page.locator("[data-live-stream]")).to_have_attribute("data-live-mode", "poll")
    mark_this_page(page)
    fake.retraining_steps.append("training")
    status = page.locator("[data-run-status]")
    # the next ask comes after the page's interval (5 s), longer than expect's usual wait
    expect(status).to_have_attribute("data-run-status", "training", timeout=20_000)
    assert page.evaluate(SAME_PAGE) is True
