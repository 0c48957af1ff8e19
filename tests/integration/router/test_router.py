"""The router on real NATS with the registry: deploys load adapters, experiments split traffic,
answers come from the right adapter, errors have OpenAI's shape."""

from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from faststream.nats import NatsRouter

from contracts.api.registry import DeployRequest, RegisterRequest
from contracts.events import FeedbackRecorded, InferenceCompleted, ModelRouted
from libs.messaging import event_subscriber
from services.registry.service import registry_of
from tests.integration.harness import running_bus
from tests.integration.router.conftest import BASE, OTHER_BASE, Stack
from tests.polling import eventually
from tests.support.identity import ClaimedTenantsSigned

pytestmark = pytest.mark.integration

ACME = {"X-Tuneloop-Tenant": "acme"}


def chat(model: str, user: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if user is not None:
        body["user"] = user
    return {**body, **extra}


async def answer(stack: Stack, model: str, user: str | None = None) -> tuple[str, dict[str, str]]:
    response = await stack.client.post("/v1/chat/completions", json=chat(model, user), headers=ACME)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"], dict(response.headers)


async def register_and_deploy(
    stack: Stack, answer_text: str, deploy: bool = True, base_model: str = BASE
) -> str:
    registry = registry_of(stack.registry.context)
    version = await registry.register(
        "acme",
        RegisterRequest(
            model_name="support-bot",
            base_model=base_model,
            artifact_sha256=await stack.adapter(answer_text),
        ),
    )
    if deploy:
        await registry.deploy("acme", "support-bot", DeployRequest(version=version.version))
    return version.serving_name


async def test_a_deployed_version_serves_and_a_new_one_replaces_it(stack: Stack) -> None:
    v1 = await register_and_deploy(stack, "alpha answer")

    async def serving(text: str) -> bool:
        response = await stack.client.post(
            "/v1/chat/completions", json=chat("support-bot"), headers=ACME
        )
        return (
            response.status_code == 200
            and response.json()["choices"][0]["message"]["content"] == text
        )

    await eventually(lambda: serving("alpha answer"), what="v1 serving")
    v2 = await register_and_deploy(stack, "beta answer")
    await eventually(lambda: serving("beta answer"), what="v2 serving")
    for _ in range(20):
        text, headers = await answer(stack, "support-bot")
        assert text == "beta answer"
        assert headers["x-tuneloop-serving-name"] == v2
    await eventually(
        lambda: v1 not in stack.upstream.app.state.adapters, what="v1 unloaded after drain"
    )
    exact, _ = await answer(stack, v2)
    assert exact == "beta answer"


async def test_an_experiment_splits_sticky_units_between_adapters(stack: Stack) -> None:
    v1 = await register_and_deploy(stack, "control says hi")
    v2 = await register_and_deploy(stack, "treatment says hi", deploy=False)
    await eventually(lambda: answer_is(stack, "support-bot", "control says hi"), what="v1")
    await eventually(lambda: known(stack, v2), what="v2 known to the router")
    created = await stack.client.post(
        "/v1/experiments",
        headers=ACME,
        json={
            "name": "tone",
            "model_name": "support-bot",
            "control": {"name": "control", "serving_name": v1, "weight": 0.5},
            "treatments": [{"name": "friendly", "serving_name": v2, "weight": 0.5}],
        },
    )
    assert created.status_code == 201, created.text
    await eventually(lambda: variant_of(stack, "user-0"), what="experiment visible")

    seen: dict[str, str] = {}
    for i in range(60):
        text, headers = await answer(stack, "support-bot", user=f"user-{i}")
        variant = headers["x-tuneloop-variant"]
        expected = "treatment says hi" if variant == "friendly" else "control says hi"
        assert text == expected  # never the other adapter's output
        seen[f"user-{i}"] = variant
    assert 10 < sum(v == "friendly" for v in seen.values()) < 50
    for user, variant in list(seen.items())[:20]:
        _, headers = await answer(stack, "support-bot", user=user)
        assert headers["x-tuneloop-variant"] == variant


async def known(stack: Stack, serving_name: str) -> bool:
    """The router has heard of the version (its model.registered event arrived)."""
    response = await stack.client.get("/v1/models", headers=ACME)
    return serving_name in [m["id"] for m in response.json()["data"]]


async def answer_is(stack: Stack, model: str, text: str) -> bool:
    response = await stack.client.post("/v1/chat/completions", json=chat(model), headers=ACME)
    return (
        response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == text
    )


async def variant_of(stack: Stack, user: str) -> bool:
    response = await stack.client.post(
        "/v1/chat/completions", json=chat("support-bot", user), headers=ACME
    )
    return "x-tuneloop-variant" in response.headers


async def test_events_are_published_for_requests_and_feedback(stack: Stack, nats_url: str) -> None:
    received: list[Any] = []
    listener = NatsRouter()
    subjects = stack.router.context.bus.subjects

    @event_subscriber(listener, subjects, "observer", InferenceCompleted)
    async def on_inference(event: InferenceCompleted) -> None:
        received.append(event)

    @event_subscriber(listener, subjects, "observer", FeedbackRecorded)
    async def on_feedback(event: FeedbackRecorded) -> None:
        received.append(event)

    @event_subscriber(listener, subjects, "observer", ModelRouted)
    async def on_routed(event: ModelRouted) -> None:
        received.append(event)

    async with running_bus(nats_url, subjects, listener):
        serving_name = await register_and_deploy(stack, "gamma ray")
        await eventually(lambda: answer_is(stack, "support-bot", "gamma ray"), what="deployed")
        response = await stack.client.post(
            "/v1/chat/completions", json=chat("support-bot", stream=True), headers=ACME
        )
        assert response.status_code == 200
        assert b"gamma" in response.content
        assert b'"usage"' not in response.content  # the client did not ask for usage
        request_id = response.headers["x-tuneloop-request-id"]
        feedback = await stack.client.post(
            "/v1/feedback", headers=ACME, json={"request_id": request_id, "gold_star": True}
        )
        assert feedback.status_code == 202

        def streamed_event() -> list[InferenceCompleted]:
            return [
                e
                for e in received
                if isinstance(e, InferenceCompleted) and e.request_id == request_id
            ]

        await eventually(lambda: bool(streamed_event()), what="inference.completed")
        await eventually(
            lambda: any(isinstance(e, FeedbackRecorded) for e in received), what="feedback.recorded"
        )
        await eventually(
            lambda: any(isinstance(e, ModelRouted) for e in received), what="model.routed"
        )
    [event] = streamed_event()
    assert event.tenant == "acme"
    assert event.serving_name == serving_name
    assert event.requested_model == "support-bot"
    assert event.completion_tokens == 2
    assert event.prompt_tokens == 7
    assert event.time_to_first_token_ms is not None
    assert event.status == "ok"
    [feedback_event] = [e for e in received if isinstance(e, FeedbackRecorded)]
    assert feedback_event.request_id == request_id
    assert feedback_event.gold_star
    [routed] = [e for e in received if isinstance(e, ModelRouted)]
    assert (routed.tenant, routed.model_name, routed.serving_name) == (
        "acme",
        "support-bot",
        serving_name,
    )
    assert routed.alias == "production"


async def test_openai_sdk_works_unchanged(stack: Stack) -> None:
    await register_and_deploy(stack, "sdk answer")
    await eventually(lambda: answer_is(stack, "support-bot", "sdk answer"), what="deployed")
    client = openai.AsyncOpenAI(
        base_url="http://router/v1",
        api_key="unused",
        http_client=stack.client,  # type: ignore[arg-type]
        default_headers=ACME,
    )
    completion = await client.chat.completions.create(
        model="support-bot", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "sdk answer"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 7
    chunks = [
        c
        async for c in await client.chat.completions.create(
            model="support-bot", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    ]
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip()
        == "sdk answer"
    )
    models = await client.models.list()
    assert "support-bot" in [m.id for m in models.data]
    with pytest.raises(openai.NotFoundError) as missing:
        await client.chat.completions.create(
            model="nope", messages=[{"role": "user", "content": "hi"}]
        )
    assert missing.value.code == "model_not_found"


async def test_bad_requests_get_openai_errors(stack: Stack) -> None:
    malformed = await stack.client.post("/v1/chat/completions", content=b"{not json", headers=ACME)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["type"] == "invalid_request_error"
    no_model = await stack.client.post("/v1/chat/completions", json={"messages": []}, headers=ACME)
    assert no_model.json()["error"]["param"] == "model"
    too_many = await stack.client.post(
        "/v1/chat/completions", json=chat(BASE, max_tokens=1_000_000), headers=ACME
    )
    assert too_many.status_code == 400
    assert too_many.json()["error"]["param"] == "max_tokens"
    huge = await stack.client.post("/v1/chat/completions", content=b"x" * 2_000_000, headers=ACME)
    assert huge.status_code == 413
    other_tenant = await stack.client.post(
        "/v1/chat/completions", json=chat("support-bot"), headers={"X-Tuneloop-Tenant": "globex"}
    )
    assert other_tenant.status_code == 404


async def test_a_down_treatment_falls_back_to_control_without_errors(stack: Stack) -> None:
    v1 = await register_and_deploy(stack, "steady control")
    v2 = await register_and_deploy(stack, "risky treatment", deploy=False, base_model=OTHER_BASE)
    await eventually(lambda: answer_is(stack, "support-bot", "steady control"), what="v1")
    await eventually(lambda: known(stack, v2), what="v2 known to the router")
    created = await stack.client.post(
        "/v1/experiments",
        headers=ACME,
        json={
            "name": "risky",
            "model_name": "support-bot",
            "control": {"name": "control", "serving_name": v1, "weight": 0.5},
            "treatments": [{"name": "risky", "serving_name": v2, "weight": 0.5}],
        },
    )
    assert created.status_code == 201
    await eventually(lambda: variant_of(stack, "user-0"), what="experiment visible")
    stack.other_upstream.stop()
    fallbacks = 0
    for i in range(30):
        text, headers = await answer(stack, "support-bot", user=f"user-{i}")
        assert text == "steady control"
        fallbacks += headers.get("x-tuneloop-fallback") == "true"
    assert fallbacks > 0


async def test_a_hot_swap_under_concurrent_traffic_fails_no_request(stack: Stack) -> None:
    import asyncio

    await register_and_deploy(stack, "old")
    await eventually(lambda: answer_is(stack, "support-bot", "old"), what="v1")
    statuses: list[int] = []
    texts: set[str] = set()
    stop = asyncio.Event()

    async def traffic() -> None:
        while not stop.is_set():
            response = await stack.client.post(
                "/v1/chat/completions", json=chat("support-bot"), headers=ACME
            )
            statuses.append(response.status_code)
            if response.status_code == 200:
                texts.add(response.json()["choices"][0]["message"]["content"])

    workers = [asyncio.create_task(traffic()) for _ in range(8)]
    await register_and_deploy(stack, "new")
    await eventually(lambda: "new" in texts, what="new version answering")
    stop.set()
    await asyncio.gather(*workers)
    assert set(statuses) == {200}
    assert texts == {"old", "new"}


async def test_the_declared_routes_answer_like_the_fast_path(stack: Stack) -> None:
    """The FastAPI routes (what the schema documents) hand requests to the same endpoint."""

    async def plain_fastapi(scope: Any, receive: Any, send: Any) -> None:
        await FastAPI.__call__(stack.router.api, scope, receive, send)  # no fast dispatch

    routes_only = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=plain_fastapi),
        base_url="http://router",
        auth=ClaimedTenantsSigned(),
    )
    async with routes_only:
        for client in (stack.client, routes_only):
            response = await client.post("/v1/chat/completions", json=chat(BASE), headers=ACME)
            assert response.status_code == 200, response.text
            assert response.json()["choices"][0]["message"]["content"] == "base"
            assert response.headers["x-tuneloop-serving-name"] == BASE
            legacy = await client.post(
                "/v1/completions", json={"model": "nope", "prompt": "hi"}, headers=ACME
            )
            assert legacy.status_code == 404
            assert legacy.json()["error"]["code"] == "model_not_found"
