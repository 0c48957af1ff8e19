"""The router in front of a real vLLM: deploys hot-load adapters under immutable names with no
failed request, experiments split traffic by weight with sticky units, retired versions are
unloaded after draining, and a restarted router loads what is deployed."""

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.polling import eventually
from tests.vllm.conftest import HEADERS, VllmStack, chat_body

pytestmark = [pytest.mark.vllm, pytest.mark.timeout(900)]

WORKERS = 4
SHIFT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Reply:
    status: int
    serving_name: str | None
    text: str | None
    body: str


async def ask(stack: VllmStack, model: str, user: str | None = None) -> Reply:
    response = await stack.chat(model, user)
    text = response.json()["choices"][0]["message"]["content"] if response.is_success else None
    return Reply(
        response.status_code, response.headers.get("x-tuneloop-serving-name"), text, response.text
    )


async def serves(stack: VllmStack, model: str, text: str) -> bool:
    reply = await ask(stack, model)
    return reply.status == 200 and reply.text == text


async def deployed(stack: VllmStack, adapter: Path, text: str) -> str:
    """Register and deploy ``adapter``; its serving name once the alias answers with it."""
    version, serving_name = await stack.register(adapter)
    await stack.deploy(version)
    await eventually(lambda: serves(stack, stack.model_name, text), 60, what=f"{serving_name}")
    return serving_name


async def test_a_hot_load_under_concurrent_traffic_fails_no_request(
    vllm_stack: VllmStack, adapter_dirs: list[Path], expected_answers: list[str]
) -> None:
    stack = vllm_stack
    v1 = await deployed(stack, adapter_dirs[0], expected_answers[0])
    version2, v2 = await stack.register(adapter_dirs[1])
    assert v1 != v2
    assert v2 not in await stack.vllm_models()
    expected = {v1: expected_answers[0], v2: expected_answers[1]}
    replies: list[Reply] = []
    shifted = asyncio.Event()

    async def traffic() -> None:
        v2_seen = 0
        while v2_seen < 5:
            reply = await ask(stack, stack.model_name)
            replies.append(reply)
            v2_seen += reply.serving_name == v2
        shifted.set()

    workers = [asyncio.create_task(traffic()) for _ in range(WORKERS)]
    await eventually(lambda: len(replies) >= 2 * WORKERS, what="traffic flowing on v1")
    await stack.deploy(version2)
    try:
        await asyncio.wait_for(asyncio.gather(*workers), SHIFT_TIMEOUT_SECONDS)
    finally:
        for worker in workers:
            worker.cancel()

    failed = [r for r in replies if r.status != 200]
    assert not failed, failed[:3]
    served = Counter(r.serving_name for r in replies)
    assert served[v1] >= 2 * WORKERS, served
    assert served[v2] >= 5 * WORKERS, served
    for reply in replies:
        assert reply.text == expected[reply.serving_name or ""], reply
    await eventually(
        lambda: unloaded(stack, v1), 30, what="the replaced version unloaded after draining"
    )
    assert v2 in await stack.vllm_models()


@dataclass(frozen=True)
class Streamed:
    status: int
    serving_name: str | None
    text: str
    finished: bool
    done: bool


async def ask_streaming(stack: VllmStack, model: str) -> Streamed:
    """One streamed chat completion, read chunk by chunk to the end."""
    body = {**chat_body(model), "stream": True}
    pieces: list[str] = []
    finished = done = False
    async with stack.client.stream(
        "POST", "/v1/chat/completions", json=body, headers=HEADERS
    ) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line.removeprefix("data: ")
            if data == "[DONE]":
                done = True
                continue
            for choice in json.loads(data).get("choices", []):
                pieces.append(choice.get("delta", {}).get("content") or "")
                finished = finished or choice.get("finish_reason") is not None
        serving_name = response.headers.get("x-tuneloop-serving-name")
        return Streamed(response.status_code, serving_name, "".join(pieces), finished, done)


async def test_streams_in_flight_across_a_hot_swap_each_complete_from_one_version(
    vllm_stack: VllmStack, adapter_dirs: list[Path], expected_answers: list[str]
) -> None:
    stack = vllm_stack
    v1 = await deployed(stack, adapter_dirs[0], expected_answers[0])
    version2, v2 = await stack.register(adapter_dirs[1])
    expected = {v1: expected_answers[0], v2: expected_answers[1]}
    streams: list[Streamed] = []

    async def traffic() -> None:
        v2_seen = 0
        while v2_seen < 3:
            streamed = await ask_streaming(stack, stack.model_name)
            streams.append(streamed)
            v2_seen += streamed.serving_name == v2

    workers = [asyncio.create_task(traffic()) for _ in range(WORKERS)]
    await eventually(lambda: len(streams) >= 2 * WORKERS, what="streams flowing from v1")
    await stack.deploy(version2)
    try:
        await asyncio.wait_for(asyncio.gather(*workers), SHIFT_TIMEOUT_SECONDS)
    finally:
        for worker in workers:
            worker.cancel()

    assert all(s.status == 200 for s in streams), [s for s in streams if s.status != 200][:3]
    assert all(s.finished and s.done for s in streams), [s for s in streams if not s.done][:3]
    # every stream is one version's whole answer, never a mix of the two
    for streamed in streams:
        assert streamed.text == expected[streamed.serving_name or ""], streamed
    served = Counter(s.serving_name for s in streams)
    assert served[v1] >= 2 * WORKERS, served
    assert served[v2] >= 3 * WORKERS, served


async def unloaded(stack: VllmStack, serving_name: str) -> bool:
    return serving_name not in await stack.vllm_models()


async def test_an_experiment_splits_by_weight_and_keeps_units_on_their_variant(
    vllm_stack: VllmStack, adapter_dirs: list[Path], expected_answers: list[str]
) -> None:
    stack = vllm_stack
    v1 = await deployed(stack, adapter_dirs[0], expected_answers[0])
    _, v2 = await stack.register(adapter_dirs[1])
    await eventually(lambda: known(stack, v2), what="v2 registered with the router")
    created = await stack.client.post(
        "/v1/experiments",
        headers=HEADERS,
        json={
            "name": "tone",
            "model_name": stack.model_name,
            "control": {"name": "control", "serving_name": v1, "weight": 0.7},
            "treatments": [{"name": "tuned", "serving_name": v2, "weight": 0.3}],
        },
    )
    assert created.status_code == 201, created.text
    await eventually(lambda: has_variant(stack), what="the experiment routing traffic")

    variant_of: dict[str, str] = {}
    for i in range(200):
        reply, variant = await ask_with_variant(stack, f"unit-{i}")
        assert reply.status == 200, reply.body
        # v2 never answers with v1's output, and the other way round
        if variant == "tuned":
            assert (reply.serving_name, reply.text) == (v2, expected_answers[1])
        else:
            assert (reply.serving_name, reply.text) == (v1, expected_answers[0])
        variant_of[f"unit-{i}"] = variant
    tuned = sum(v == "tuned" for v in variant_of.values())
    assert 30 <= tuned <= 90, tuned  # 30 % of 200 units, ±4.6 standard deviations
    for unit, variant in list(variant_of.items())[:50]:
        _, again = await ask_with_variant(stack, unit)
        assert again == variant, unit


async def known(stack: VllmStack, serving_name: str) -> bool:
    response = await stack.client.get("/v1/models", headers=HEADERS)
    return serving_name in [model["id"] for model in response.json()["data"]]


async def ask_with_variant(stack: VllmStack, unit: str) -> tuple[Reply, str]:
    response = await stack.chat(stack.model_name, user=unit)
    reply = Reply(
        response.status_code,
        response.headers.get("x-tuneloop-serving-name"),
        response.json()["choices"][0]["message"]["content"] if response.is_success else None,
        response.text,
    )
    return reply, response.headers.get("x-tuneloop-variant", "")


async def has_variant(stack: VllmStack) -> bool:
    response = await stack.chat(stack.model_name, user="probe")
    return response.status_code == 200 and bool(response.headers.get("x-tuneloop-variant"))


async def test_a_restarted_router_loads_what_the_registry_deployed(
    vllm_stack: VllmStack, adapter_dirs: list[Path], expected_answers: list[str]
) -> None:
    stack = vllm_stack
    v1 = await deployed(stack, adapter_dirs[0], expected_answers[0])
    _, v2 = await stack.register(adapter_dirs[1])
    await eventually(lambda: known(stack, v2), what="v2 registered with the router")
    await stack.forget_adapters()  # as a vLLM restarted meanwhile would have
    # a version nothing serves, left loaded (as by a retirement cut short by a crash)
    await stack.load_directly(v2, adapter_dirs[1])
    assert v1 not in await stack.vllm_models()

    await stack.restart_router()

    await eventually(
        lambda: loaded(stack, v1), 30, what="the deployed version loaded at router start-up"
    )
    await eventually(lambda: unloaded(stack, v2), 30, what="the leftover version unloaded")
    reply = await ask(stack, stack.model_name)
    assert (reply.status, reply.serving_name, reply.text) == (200, v1, expected_answers[0])


async def loaded(stack: VllmStack, serving_name: str) -> bool:
    return serving_name in await stack.vllm_models()


async def test_vllm_errors_reach_the_client_in_openai_shape(vllm_stack: VllmStack) -> None:
    stack = vllm_stack
    response = await stack.client.post(
        "/v1/chat/completions",
        headers=HEADERS,
        json={"model": "tiny-llama", "messages": "not a list", "max_tokens": 4},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["message"]
    assert "type" in error


async def test_an_adapter_vllm_lost_is_loaded_again_by_the_next_request(
    vllm_stack: VllmStack, adapter_dirs: list[Path], expected_answers: list[str]
) -> None:
    stack = vllm_stack
    v1 = await deployed(stack, adapter_dirs[0], expected_answers[0])
    await stack.forget_adapters()  # vLLM restarted: it serves the base model only

    reply = await ask(stack, stack.model_name)

    assert (reply.status, reply.serving_name, reply.text) == (200, v1, expected_answers[0])
    assert v1 in await stack.vllm_models()
