"""The dashboard in headless Chromium, through the whole guided flow on a real stack: gold-star
data → base model → settings and estimate → training on the tiny model with live progress →
deploy → A/B test with a weight slider → verdict in words with its chart → promotion with a note.

Screenshots of every step go to ``.tuneloop/test-artifacts/screenshots/``.
"""

import random
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_stack import REPO, TUNELOOP, free_port, healthy, stack_env
from tests.polling import eventually_sync

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / ".tuneloop" / "test-artifacts" / "screenshots"
MODEL = "ticket-router"
TEAMS = ("billing", "shipping", "account", "hardware")


@pytest.fixture
def stack_url(tmp_path: Path, tiny_model_dir: Path, models_cache_dir: Path) -> Iterator[str]:
    port = free_port()
    env = stack_env(
        tmp_path, TUNELOOP_BASE_MODEL="tiny-llama", TUNELOOP_MODELS_DIR=str(models_cache_dir)
    )
    process = subprocess.Popen(
        [*TUNELOOP, "up", "--gateway-port", str(port)],
        cwd=REPO,
        env={
            **env,
            "TUNELOOP_EVALUATOR_SNAPSHOT_INTERVAL_SECONDS": "1",
            "TUNELOOP_STARTUP_TIMEOUT_SECONDS": "180",  # a busy machine starts slowly
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        eventually_sync(
            lambda: healthy(url) and (tmp_path / "stack.json").exists(),
            timeout=200,
            interval=0.5,
            what="stack up",
        )
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


@pytest.fixture
def api(stack_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    """The public API, as scripts call it, to set the scene and check the outcome."""
    headers = {"Authorization": f"Bearer {api_key(tmp_path)}"}
    with httpx.Client(base_url=stack_url, headers=headers, timeout=60) as client:
        yield client


def api_key(home: Path) -> str:
    """The admin key ``tuneloop up`` wrote, or any well-formed key while keys are not checked."""
    written = home / "admin.key"
    return written.read_text().strip() if written.exists() else "tl_e2etest1_notcheckedyet"


def rated_examples(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    rows = []
    for i in range(count):
        team = TEAMS[i % len(TEAMS)]
        rows.append(
            {
                "messages": [
                    {"role": "user", "content": f"Ticket {i}: my {team} issue {rng.randint(1, 9)}"},
                    {"role": "assistant", "content": f"Route this ticket to the {team} team."},
                ],
                "rating": 5 if i % 3 else 3,
                "gold_star": i % 3 != 0,
                "domain": "support",
                "task_type": "routing",
            }
        )
    return rows


def untrained_adapter(base: Path, target: Path) -> Path:
    """A LoRA adapter of the tiny model, to register as the version production serves first."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    get_peft_model(model, config).save_pretrained(target)
    return target


def serves(api: httpx.Client, model: str) -> bool:
    names = [m["id"] for m in api.get("/v1/models").json()["data"]]
    if model not in names:
        return False
    answer = api.post(
        "/v1/chat/completions",
        json={"model": model, "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]},
    )
    return answer.status_code == 200


def seed(api: httpx.Client, adapter: Path) -> None:
    """What the stack holds before the user arrives: rated traffic and a production version."""
    eventually_sync(lambda: serves(api, "tiny-llama"), timeout=180, interval=1, what="engine up")
    stored = api.post("/v1/examples", json={"examples": rated_examples(60)})
    assert stored.status_code == 201, stored.text
    registered = api.post(
        "/v1/registry/models",
        json={"model_name": MODEL, "base_model": "tiny-llama", "adapter_path": str(adapter)},
    )
    assert registered.status_code == 201, registered.text
    deployed = api.post(
        f"/v1/registry/models/{MODEL}/deployments", json={"version": 1, "notes": "first version"}
    )
    assert deployed.status_code == 200, deployed.text
    eventually_sync(lambda: serves(api, MODEL), timeout=60, interval=0.5, what="production served")


def one_user(api: httpx.Client, experiment_id: str, user: int) -> None:
    """A user asks the model; they star most answers of the new version, few of the current."""
    answer = api.post(
        "/v1/chat/completions",
        json={
            "model": MODEL,
            "user": f"user-{user}",
            "max_tokens": 4,
            "messages": [{"role": "user", "content": f"Ticket {user}: my invoice is wrong"}],
        },
    )
    assert answer.status_code == 200, answer.text
    if answer.headers.get("x-tuneloop-experiment") != experiment_id:
        return  # the test has concluded: traffic is no longer split
    pleased = (user % 10) < (8 if answer.headers["x-tuneloop-variant"] == "new" else 2)
    feedback = api.post(
        "/v1/feedback",
        json={
            "request_id": answer.headers["x-tuneloop-request-id"],
            "rating": 5 if pleased else 2,
            "gold_star": pleased,
        },
    )
    assert feedback.status_code == 202, feedback.text


def live_traffic(api: httpx.Client, experiment_id: str, users: range) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(partial(one_user, api, experiment_id), users))


def decided(api: httpx.Client, experiment_id: str) -> bool:
    view = api.get(f"/v1/evaluations/experiments/{experiment_id}")
    return view.status_code == 200 and view.json()["verdict"] is not None


def counted(api: httpx.Client, experiment_id: str, requests: int) -> bool:
    """The evaluator has seen every request sent so far, or has decided."""
    view = api.get(f"/v1/evaluations/experiments/{experiment_id}")
    if view.status_code != 200:
        return False
    body = view.json()
    return bool(body["verdict"]) or sum(arm["requests"] for arm in body["arms"]) >= requests


LIVE_WATCH = """selector => {
  const report = how => window.reportLiveUpdate(selector + " " + how);
  if (document.querySelector(selector)) { report("at load"); return; }
  const observer = new MutationObserver(() => {
    if (!document.querySelector(selector)) { return; }
    observer.disconnect();
    const follower = document.querySelector("[data-live-stream]");
    report("via " + (follower ? follower.getAttribute("data-live-mode") : "nothing"));
  });
  observer.observe(document.body, { subtree: true, childList: true, attributes: true });
}"""
"""Report (once) how ``selector`` came to match in this document: changed in place by the
page's live updates, and whether they streamed or polled. A reload ends the watch unreported."""


@pytest.mark.timeout(480)
def test_the_guided_flow_from_gold_stars_to_a_promoted_version(
    stack_url: str, api: httpx.Client, tmp_path: Path, tiny_model_dir: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    key = api_key(tmp_path)
    seed(api, untrained_adapter(tiny_model_dir, tmp_path / "adapter-v1"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(30_000)

        def shot(name: str) -> None:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

        live_updates: list[str] = []

        def report_live_update(text: str) -> None:
            live_updates.append(text)

        page.expose_function("reportLiveUpdate", report_live_update)
        chart = '[data-fragment="chart"] polyline'
        winner = '[data-verdict="treatment_wins"]'

        try:
            # sign in
            page.goto(f"{stack_url}/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.get_by_label("API key").fill(key)
            shot("01-sign-in")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            expect(page.locator('[data-card="gold-stars"]')).to_have_text("40")
            expect(page.locator('[data-card="deployed-models"]')).to_have_text("1")
            shot("02-overview")

            # 1. gold-star data, with live counts
            page.get_by_role("link", name="Fine-tune a model").first.click()
            expect(page.locator('[data-count="matching"]')).to_have_text("40")
            page.get_by_label("Gold-star examples only").uncheck()
            expect(page.locator('[data-count="matching"]')).to_have_text("60")
            page.get_by_label("Gold-star examples only").check()
            page.get_by_label("Domain").select_option("support")
            expect(page.locator('[data-count="matching"]')).to_have_text("40")
            page.get_by_label("Name of the dataset").fill("gold-tickets")
            shot("03-choose-data")
            page.get_by_role("button", name="Next: choose a base model").click()

            # 2. base model
            expect(page.get_by_label("tiny-llama")).to_be_checked()
            page.get_by_label("Name of the fine-tuned model").fill(MODEL)
            shot("04-base-model")
            page.get_by_role("button", name="Next: settings and cost").click()

            # 3. settings and the estimate
            expect(page.locator('[data-estimate="tokens"]')).to_be_visible()
            page.get_by_label("Stop after this many steps").fill("8")
            page.get_by_label("Learning rate").fill("0.005")
            page.get_by_label("Examples per step").fill("8")
            expect(page.get_by_role("cell", name="cpu", exact=True)).to_be_visible()
            shot("05-settings-and-cost")
            page.get_by_role("button", name="Start training").click()

            # 4. training, watched live
            expect(page.get_by_role("heading", name=f"Training {MODEL}")).to_be_visible()
            page.evaluate(LIVE_WATCH, chart)
            expect(page.locator(chart)).to_be_visible(timeout=120_000)
            shot("06-training-live")
            expect(page.get_by_text("Version 2 (")).to_be_visible(timeout=120_000)
            assert live_updates == [f"{chart} via stream"]  # arrived without a reload
            expect(page.locator("svg.line-chart")).to_be_visible()
            shot("07-trained")

            # 5. deploy
            page.get_by_label("Note").fill("trained on gold-star tickets")
            page.get_by_role("button", name="Deploy as candidate").click()

            # 6. A/B test with the weight slider
            expect(page.get_by_role("heading", name="Test the new version")).to_be_visible()
            page.get_by_label("Share of traffic for the new version").fill("50")
            expect(page.locator("#ab-weight-out")).to_have_text("50 %")
            page.get_by_label("Users per version before deciding").fill("20")
            shot("08-ab-test")
            page.get_by_role("button", name="Start the A/B test").click()
            expect(page.get_by_role("heading", name="Verdict")).to_be_visible()
            experiment_id = page.url.split("/experiments/")[1].split("?")[0]
            page.evaluate(LIVE_WATCH, winner)

            # 7. the verdict in words, with the chart
            users = 0
            while not decided(api, experiment_id) and users < 400:
                live_traffic(api, experiment_id, range(users, users + 24))
                users += 24
                caught_up = partial(counted, api, experiment_id, users)
                eventually_sync(caught_up, timeout=30, what="the evaluator counting them")
            expect(page.locator(winner)).to_be_visible(timeout=30_000)  # streamed in
            assert live_updates[-1] == f"{winner} via stream"
            expect(page.get_by_text("The new version is better: promote it.")).to_be_visible()
            expect(page.locator("svg.interval-chart line.interval")).to_have_count(3)
            shot("09-verdict")

            # promote with one click and a note
            page.get_by_label("Note").first.fill("wins on gold stars")
            page.get_by_role("button", name="Promote").click()
            expect(page.get_by_text("Promoted: the new version serves everyone.")).to_be_visible()
            shot("10-promoted")

            page.goto(f"{stack_url}/models/{MODEL}")
            expect(page.get_by_role("cell", name="wins on gold stars")).to_be_visible()
            shot("11-model-history")
        except Exception:
            shot("failure")
            raise
        finally:
            browser.close()

    production = api.get(f"/v1/registry/models/{MODEL}/aliases/production").json()
    assert production["version"] == 2
    history = api.get(f"/v1/registry/models/{MODEL}/history").json()
    assert [(h["action"], h["alias"], h["to_version"], h["notes"]) for h in history] == [
        ("deploy", "production", 1, "first version"),
        ("deploy", "candidate", 2, "trained on gold-star tickets"),
        ("deploy", "production", 2, "wins on gold stars"),
    ]
    assert api.get("/v1/experiments").json()[0]["status"] == "stopped"
