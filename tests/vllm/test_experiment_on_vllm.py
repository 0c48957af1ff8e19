"""A/B tests decided on live traffic: the router in front of vLLM with two real adapters, users
who prefer one adapter's answer, and the evaluator's verdict carried out by the registry and the
router: a better adapter is promoted, a worse one is stopped and its traffic returns to control.
"""

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from services.evaluator.service import DEFINITION as EVALUATOR
from tests.polling import eventually
from tests.support.identity import ClaimedTenantsSigned
from tests.vllm.conftest import HEADERS, VllmStack
from tests.vllm.test_router_on_vllm import deployed, known

pytestmark = [pytest.mark.vllm, pytest.mark.timeout(900)]

MAX_UNITS = 400
"""Bounds the traffic; each arm's users are sure long before this."""

PREFERRED_STAR_RATE = 0.8
OTHER_STAR_RATE = 0.1


@pytest.fixture
async def evaluator(vllm_stack: VllmStack) -> AsyncIterator[AssembledService]:
    """The evaluator on the same NATS and database as the stack's registry and router."""
    settings = {k: v for k, v in vllm_stack.settings.items() if k not in ("upstreams",)}
    service = assemble(EVALUATOR, EVALUATOR.settings(**settings))
    await start_messaging(service)
    try:
        yield service
    finally:
        await stop_messaging(service)


@dataclass
class Served:
    request_id: str
    serving_name: str
    variant: str
    text: str


class Users:
    """Simulated users who give a gold star far more often to one particular answer."""

    def __init__(self, preferred_answer: str, seed: int) -> None:
        self.preferred_answer = preferred_answer
        self.rng = random.Random(seed)

    def gold_star(self, answer: str) -> bool:
        rate = PREFERRED_STAR_RATE if answer == self.preferred_answer else OTHER_STAR_RATE
        return self.rng.random() < rate


async def ask(stack: VllmStack, unit: str) -> Served:
    response = await stack.chat(stack.model_name, user=unit)
    assert response.status_code == 200, response.text
    return Served(
        request_id=response.headers["x-tuneloop-request-id"],
        serving_name=response.headers["x-tuneloop-serving-name"],
        variant=response.headers.get("x-tuneloop-variant", ""),
        text=response.json()["choices"][0]["message"]["content"],
    )


async def rate(stack: VllmStack, served: Served, gold_star: bool) -> None:
    response = await stack.client.post(
        "/v1/feedback",
        headers=HEADERS,
        json={
            "request_id": served.request_id,
            "gold_star": gold_star,
            "rating": 5 if gold_star else 2,
        },
    )
    assert response.status_code in (200, 201, 202), response.text


async def start_experiment(stack: VllmStack, control: str, treatment: str) -> str:
    created = await stack.client.post(
        "/v1/experiments",
        headers=HEADERS,
        json={
            "name": "preferred-answer",
            "model_name": stack.model_name,
            "control": {"name": "control", "serving_name": control, "weight": 0.5},
            "treatments": [{"name": "tuned", "serving_name": treatment, "weight": 0.5}],
            "minimum_detectable_effect": 0.3,
            "stopping": {"min_units_per_arm": 15},
        },
    )
    assert created.status_code == 201, created.text
    experiment_id: str = created.json()["id"]
    return experiment_id


async def verdict(evaluator: AssembledService, experiment_id: str) -> dict[str, Any] | None:
    """The evaluator's view of the experiment once it is concluded, else ``None``."""
    import httpx

    transport = httpx.ASGITransport(app=evaluator.api)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://evaluator", auth=ClaimedTenantsSigned()
    ) as client:
        response = await client.get(f"/v1/evaluations/experiments/{experiment_id}", headers=HEADERS)
    if response.status_code != 200:
        return None
    view: dict[str, Any] = response.json()
    return view if view["status"] == "concluded" else None


async def run_until_verdict(
    stack: VllmStack, evaluator: AssembledService, experiment_id: str, users: Users
) -> tuple[dict[str, Any], list[Served]]:
    """Live traffic with feedback, one new unit at a time, until the evaluator concludes."""
    traffic: list[Served] = []
    for index in range(MAX_UNITS):
        served = await ask(stack, f"{experiment_id}-unit-{index}")
        traffic.append(served)
        await rate(stack, served, users.gold_star(served.text))
        if index % 5 == 4 and (view := await verdict(evaluator, experiment_id)) is not None:
            return view, traffic
    view = None

    async def concluded() -> bool:
        nonlocal view
        view = await verdict(evaluator, experiment_id)
        return view is not None

    await eventually(concluded, 60, what=f"a verdict on {experiment_id} after {MAX_UNITS} units")
    assert view is not None
    return view, traffic


async def router_experiment(stack: VllmStack, experiment_id: str) -> dict[str, Any]:
    response = await stack.client.get("/v1/experiments", headers=HEADERS)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = next(e for e in response.json() if e["id"] == experiment_id)
    return found


async def stopped(stack: VllmStack, experiment_id: str) -> bool:
    status: str = (await router_experiment(stack, experiment_id))["status"]
    return status == "stopped"


async def production_answers(stack: VllmStack, text: str) -> bool:
    served = await ask(stack, "after-the-verdict")
    return served.text == text


async def two_versions(
    stack: VllmStack, adapter_dirs: list[Path], expected_answers: list[str]
) -> tuple[str, str]:
    """v1 (first adapter) in production, v2 (second adapter) registered and known."""
    v1 = await deployed(stack, adapter_dirs[0], expected_answers[0])
    _, v2 = await stack.register(adapter_dirs[1])
    await eventually(lambda: known(stack, v2), what="v2 registered with the router")
    return v1, v2


def assert_answers_match_their_adapter(
    traffic: list[Served], answers: dict[str, str], control: str, treatment: str
) -> None:
    in_test = [served for served in traffic if served.variant]  # the rest came after the verdict
    assert {served.variant for served in in_test} == {"control", "tuned"}
    for served in in_test:
        assert served.serving_name == (control if served.variant == "control" else treatment)
        assert served.text == answers[served.serving_name]


async def test_a_better_adapter_wins_on_live_traffic_and_production_moves_to_it(
    vllm_stack: VllmStack,
    evaluator: AssembledService,
    adapter_dirs: list[Path],
    expected_answers: list[str],
) -> None:
    stack = vllm_stack
    v1, v2 = await two_versions(stack, adapter_dirs, expected_answers)
    experiment_id = await start_experiment(stack, control=v1, treatment=v2)
    users = Users(preferred_answer=expected_answers[1], seed=1)

    view, traffic = await run_until_verdict(stack, evaluator, experiment_id, users)

    assert_answers_match_their_adapter(
        traffic, {v1: expected_answers[0], v2: expected_answers[1]}, v1, v2
    )
    assert view["verdict"] == "treatment_wins", view["summary"]
    assert "wins" in view["summary"]
    await eventually(lambda: stopped(stack, experiment_id), what="the router ending the test")
    # the registry moved production to v2 (the evaluator's promotion command) and the router
    # serves it to everyone
    await eventually(
        lambda: production_answers(stack, expected_answers[1]), 60, what="v2 serving production"
    )
    for index in range(20):
        served = await ask(stack, f"later-unit-{index}")
        assert (served.serving_name, served.text, served.variant) == (v2, expected_answers[1], "")


async def test_a_worse_adapter_is_stopped_and_its_traffic_returns_to_control(
    vllm_stack: VllmStack,
    evaluator: AssembledService,
    adapter_dirs: list[Path],
    expected_answers: list[str],
) -> None:
    stack = vllm_stack
    v1, v2 = await two_versions(stack, adapter_dirs, expected_answers)
    experiment_id = await start_experiment(stack, control=v1, treatment=v2)
    users = Users(preferred_answer=expected_answers[0], seed=2)

    view, traffic = await run_until_verdict(stack, evaluator, experiment_id, users)

    assert_answers_match_their_adapter(
        traffic, {v1: expected_answers[0], v2: expected_answers[1]}, v1, v2
    )
    assert view["verdict"] == "control_wins", view["summary"]
    assert "All traffic goes back to control" in view["summary"]
    await eventually(lambda: stopped(stack, experiment_id), what="the router ending the test")
    experiment = await router_experiment(stack, experiment_id)
    assert experiment["stop_reason"], experiment
    # every unit, including those the treatment served, is answered by control (v1) again
    treated_units = [s for s in traffic if s.variant == "tuned"]
    assert treated_units
    for index in range(20):
        served = await ask(stack, f"{experiment_id}-unit-{index}")
        assert (served.serving_name, served.text, served.variant) == (v1, expected_answers[0], "")
