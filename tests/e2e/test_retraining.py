"""Continuous retraining on the real stack and the tiny model: gold stars from live traffic
start a run that exports them, trains an adapter, compares it offline with production and
starts an A/B test by itself, all seen through the public API and the dashboard."""

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_stack import REPO, TUNELOOP, free_port, healthy, stack_env
from tests.polling import eventually, eventually_sync
from tuneloop.flywheel.baseline import ensure_production
from tuneloop.flywheel.client import Gateway
from tuneloop.flywheel.plan import QUICK
from tuneloop.flywheel.serving import judge_all, serve_all
from tuneloop.flywheel.tickets import TicketGenerator
from tuneloop.flywheel.users import SimulatedUsers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

MODEL = "support-triage"
GOLD_STARS = 30
REQUESTS = 48
FINAL = {"completed", "skipped", "failed", "cancelled"}
STARTUP_SECONDS = 300


@pytest.fixture
def stack(
    tmp_path: Path, tiny_model_dir: Path, models_cache_dir: Path
) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    port = free_port()
    process = subprocess.Popen(
        [*TUNELOOP, "up", "--gateway-port", str(port)],
        cwd=REPO,
        env=stack_env(
            tmp_path,
            TUNELOOP_BASE_MODEL="tiny-llama",
            TUNELOOP_MODELS_DIR=str(models_cache_dir),
            TUNELOOP_ROUTER_CAPTURE_TENANTS="*",
            TUNELOOP_RETRAINER_TICK_SECONDS="1",
            TUNELOOP_RETRAINER_COUNT_SECONDS="5",
            # nine Python processes start at once: on a busy two-core machine that takes minutes
            TUNELOOP_STARTUP_TIMEOUT_SECONDS=str(STARTUP_SECONDS),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process, f"http://127.0.0.1:{port}", tmp_path
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    if process.stdout is not None:
        process.stdout.close()


def policy() -> dict[str, Any]:
    return {
        "model_name": MODEL,
        "trigger": {"gold_stars": GOLD_STARS},
        "export": {"test_fraction": 0.2},
        # a short run: this test is about the loop, not about what the adapter learns
        "training": {"hyperparameters": {**QUICK.hyperparameters, "max_steps": 20}},
        # the tiny model scores near zero either way; a wide margin makes the decision
        # deterministic (the unit and integration tests cover a worse candidate's skip)
        "evaluation": {"margin": 1.0, "max_tokens": QUICK.max_tokens},
        "experiment": {
            "minimum_detectable_effect": QUICK.minimum_detectable_effect,
            "stopping": {"min_units_per_arm": 10, "max_units_per_arm": 25},
        },
    }


async def captured(gateway: Gateway, count: int, timeout: float) -> None:
    """The exporter stored every captured request (corrections need their request)."""

    async def stored() -> bool:
        return bool((await gateway.get("/v1/examples/summary"))["matching"] >= count)

    await eventually(stored, timeout, 0.5, what=f"the exporter storing {count} captured requests")


async def engine_answers(gateway: Gateway, timeout: float) -> None:
    """The embedded engine has loaded the base model (the stack is healthy before that)."""
    body = {"model": "tiny-llama", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}

    async def answers() -> bool:
        response = await gateway.call("POST", "/v1/chat/completions", json=body)
        return bool(response.status_code == 200)

    await eventually(answers, timeout, 1.0, what="the engine answering")


async def live_run(gateway: Gateway, timeout: float) -> dict[str, Any]:
    """The policy's run once its A/B test is live (or once it ended, for the message)."""
    run: dict[str, Any] = {}

    async def live_or_ended() -> bool:
        runs = (await gateway.get("/v1/retraining/runs", params={"model_name": MODEL}))["data"]
        if not runs:
            return False
        run.clear()
        run.update(runs[0])
        live = run["status"] == "experimenting" and "is live" in run["summary"]
        return bool(live or run["status"] in FINAL)

    await eventually(live_or_ended, timeout, 1.0, what="a live A/B test from a retraining run")
    return run


async def gold_stars_start_a_run(url: str, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    gateway = Gateway(url, key, timeout=120)
    try:
        await engine_answers(gateway, STARTUP_SECONDS)
        production, _ = await ensure_production(gateway, MODEL, "tiny-llama")
        created = await gateway.post("/v1/retraining/policies", policy())
        assert created["enabled"]
        users = SimulatedUsers(QUICK.seed, QUICK.correction_rate)
        tickets = TicketGenerator(QUICK.seed).batch(REQUESTS)
        pairs = [(users.user_id(i % 20), ticket) for i, ticket in enumerate(tickets)]
        exchanges = await serve_all(
            gateway, MODEL, pairs, QUICK.max_tokens, QUICK.system_prompt, 2, lambda _: None
        )
        await captured(gateway, REQUESTS, 60)
        feedback = await judge_all(gateway, users, exchanges)
        gold = sum(f.score.gold_star or f.corrected_answer is not None for f in feedback)
        assert gold >= GOLD_STARS, "the simulated users gave too few gold stars to retrain"
        run = await live_run(gateway, 600)
        return run, {"production": production.serving_name}
    finally:
        await gateway.close()


def get(client: httpx.Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def test_gold_stars_retrain_evaluate_and_start_an_ab_test_by_themselves(stack) -> None:  # type: ignore[no-untyped-def]
    process, url, home = stack
    eventually_sync(
        lambda: healthy(url) and (home / "stack.json").exists(),
        timeout=STARTUP_SECONDS + 20,
        interval=0.5,
        what="stack up",
    )
    key = (home / "admin.key").read_text().strip()

    run, seen = asyncio.run(gold_stars_start_a_run(url, key))
    for step in run["history"]:  # shown with -s, and with the failure otherwise
        print(f"{step['at']} {step['status']:<13} {step['summary']}")

    assert run["status"] == "experimenting", run
    assert run["trigger"] == "gold_stars"
    assert f"(the policy retrains every {GOLD_STARS})" in run["reason"]
    statuses = [step["status"] for step in run["history"]]
    for stage in ("triggered", "exporting", "training", "evaluating", "experimenting"):
        assert stage in statuses, statuses
    assert run["serving_name"] == seen["production"]
    assert run["train_rows"] > 0
    assert run["test_rows"] > 0
    assert run["decision"]
    assert "not worse" in run["decision"]

    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        job = get(client, f"/v1/fine_tuning/jobs/{run['job_id']}")
        assert job["status"] == "succeeded"
        assert job["dataset"] == run["dataset"]
        versions = get(client, f"/v1/registry/models/{MODEL}/versions")
        candidate = next(v for v in versions if v["job_id"] == run["job_id"])
        assert candidate["serving_name"] == run["candidate_serving_name"]
        evaluation = get(client, f"/v1/evaluations/{run['evaluation_id']}")
        assert evaluation["status"] == "completed"
        assert evaluation["models"] == [run["serving_name"], run["candidate_serving_name"]]
        assert evaluation["total"] == 2 * run["test_rows"]
        experiment = next(
            e for e in get(client, "/v1/experiments") if e["id"] == run["experiment_id"]
        )
        assert experiment["status"] == "running"
        assert {v["serving_name"]: v["is_control"] for v in experiment["variants"]} == {
            run["serving_name"]: True,
            run["candidate_serving_name"]: False,
        }
        policy_now = get(client, f"/v1/retraining/policies/{MODEL}")
        assert policy_now["active_run_id"] == run["id"], "one run at a time"
        off = client.post(f"/v1/retraining/policies/{MODEL}/disable")
        assert off.status_code == 200
        assert off.json()["enabled"] is False

        dashboard = httpx.Client(base_url=url, timeout=30, follow_redirects=True)
        with dashboard:
            signed_in = dashboard.post("/login", data={"api_key": key, "next": "/retraining"})
            assert signed_in.status_code == 200
            assert "Continuous retraining" in signed_in.text
            assert run["id"] in signed_in.text
            assert 'data-run-status="experimenting"' in signed_in.text
            page = dashboard.get(f"/retraining/runs/{run['id']}")
            assert page.status_code == 200
            assert run["experiment_id"] in page.text

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
