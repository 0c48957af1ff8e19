"""Continuous batching in the embedded engine, on the tiny model with random LoRA adapters:
rows of different adapters and parameters share each forward pass, yet every row says exactly
what it says alone."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.models.tiny import random_lora_adapter
from services.router.engine.app import create_engine_app
from services.router.engine.model import AdapterModel, AdapterProblem
from services.router.engine.sampling import SamplingParams
from services.router.engine.scheduler import Delta, Failed, Finished, Handle, Scheduler
from tests.polling import eventually

pytestmark = pytest.mark.integration

A1, A2 = "bot@1-batch001", "bot@2-batch002"
PROMPTS = [
    "route: printer is broken",
    "hello there, my laptop",
    "x",
    "the quick brown fox jumps over the lazy dog and then some more words",
    "refund please",
]


@pytest.fixture(scope="module")
def adapter_dirs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("batching-adapters")
    return {
        A1: random_lora_adapter(tiny_model_dir, root / "a1", seed=1),
        A2: random_lora_adapter(tiny_model_dir, root / "a2", seed=2),
    }


def started(model_dir: Path, adapters: dict[str, Path], max_batch: int) -> Scheduler:
    scheduler = Scheduler(AdapterModel(model_dir, threads=1), max_batch=max_batch).start()
    for name, path in adapters.items():
        scheduler.load(name, path)
    return scheduler


@pytest.fixture(scope="module")
def batched(tiny_model_dir: Path, adapter_dirs: dict[str, Path]) -> Iterator[Scheduler]:
    scheduler = started(tiny_model_dir, adapter_dirs, max_batch=8)
    yield scheduler
    scheduler.stop()


@pytest.fixture(scope="module")
def single(tiny_model_dir: Path, adapter_dirs: dict[str, Path]) -> Iterator[Scheduler]:
    """The same engine one request at a time: the unbatched reference."""
    scheduler = started(tiny_model_dir, adapter_dirs, max_batch=1)
    yield scheduler
    scheduler.stop()


@pytest.fixture(scope="module")
def reference(tiny_model_dir: Path, adapter_dirs: dict[str, Path]) -> Any:
    """Plain ``generate`` of transformers + PEFT, one prompt at a time."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model = PeftModel.from_pretrained(base, str(adapter_dirs[A1]), adapter_name=A1)
    model.load_adapter(str(adapter_dirs[A2]), adapter_name=A2)
    model.eval()
    return model


def chat_ids(scheduler: Scheduler, text: str) -> list[int]:
    return scheduler.model.prompt_ids([{"role": "user", "content": text}], None)


def generate(reference: Any, prompt: list[int], adapter: str | None, max_tokens: int) -> list[int]:
    import torch

    ids = torch.tensor([prompt])
    with torch.inference_mode():
        if adapter is None:
            with reference.disable_adapter():
                output = reference.generate(
                    input_ids=ids, max_new_tokens=max_tokens, do_sample=False
                )
        else:
            reference.set_adapter(adapter)
            output = reference.generate(input_ids=ids, max_new_tokens=max_tokens, do_sample=False)
    return [int(t) for t in output[0][len(prompt) :]]


async def collect(handle: Handle) -> tuple[str, Finished | Failed]:
    pieces: list[str] = []
    async for event in handle.events():
        if isinstance(event, Delta):
            pieces.append(event.text)
        else:
            return "".join(pieces), event
    raise AssertionError("no final event")


async def alone(scheduler: Scheduler, adapter: str | None, prompt: list[int], **params: Any) -> str:
    text, final = await collect(scheduler.submit(adapter, prompt, SamplingParams(**params)))
    assert isinstance(final, Finished)
    return text


async def test_mixed_adapters_in_one_batch_each_match_unbatched_greedy_generate(
    batched: Scheduler, reference: Any
) -> None:
    jobs = [(p, a) for p in PROMPTS for a in (None, A1, A2)][:12]
    prompts = [chat_ids(batched, p) for p, _ in jobs]
    steps_before, batched.largest_batch = batched.steps, 0
    handles = [
        batched.submit(a, ids, SamplingParams(max_tokens=24))
        for (_, a), ids in zip(jobs, prompts, strict=True)
    ]
    results = await asyncio.gather(*(collect(h) for h in handles))

    tokens = 0
    by_prompt: dict[str, set[str]] = {}
    for (text, final), (prompt, adapter), ids in zip(results, jobs, prompts, strict=True):
        expected = generate(reference, ids, adapter, 24)
        assert isinstance(final, Finished)
        assert text == batched.model.decode(expected), (prompt, adapter)
        assert final.completion_tokens == len(expected)
        assert final.prompt_tokens == len(ids)
        assert final.finish_reason == ("length" if len(expected) == 24 else "stop")
        tokens += final.completion_tokens
        by_prompt.setdefault(prompt, set()).add(text)
    assert batched.largest_batch == 8
    assert batched.steps - steps_before < tokens / 2, "rows shared forward passes"
    assert all(len(texts) == 3 for texts in by_prompt.values()), "each adapter its own answer"


async def test_a_request_joining_a_running_batch_changes_no_row(
    batched: Scheduler, single: Scheduler
) -> None:
    first_ids, second_ids = chat_ids(batched, PROMPTS[0]), chat_ids(batched, PROMPTS[3])
    long: dict[str, Any] = {"max_tokens": 200, "ignore_eos": True}
    batched.largest_batch = 0
    first = batched.submit(A2, first_ids, SamplingParams(**long))
    first_result = asyncio.ensure_future(collect(first))
    assert first.row is not None
    row = first.row
    await eventually(
        lambda: len(row.tokens) >= 3, timeout=30, interval=0.002, what="the first row decoding"
    )
    second_text, second_final = await collect(
        batched.submit(A1, second_ids, SamplingParams(max_tokens=30, ignore_eos=True))
    )
    first_text, first_final = await first_result
    assert batched.largest_batch == 2, "the second row ran while the first was running"
    assert isinstance(first_final, Finished)
    assert first_final.completion_tokens == 200
    assert isinstance(second_final, Finished)
    assert second_final.finish_reason == "length"
    assert first_text == await alone(single, A2, first_ids, **long)
    assert second_text == await alone(single, A1, second_ids, max_tokens=30, ignore_eos=True)


async def test_stop_sequences_and_token_budgets_are_per_row(
    batched: Scheduler, reference: Any
) -> None:
    ids = chat_ids(batched, PROMPTS[1])
    full = batched.model.decode(generate(reference, ids, A2, 24))
    stop = full[6:9]
    expected = full[: full.find(stop)]
    handles = [
        batched.submit(A2, ids, SamplingParams(max_tokens=24, stop=("zzzz", stop))),
        batched.submit(A2, ids, SamplingParams(max_tokens=3, ignore_eos=True)),
        batched.submit(A2, ids, SamplingParams(max_tokens=1, ignore_eos=True)),
        batched.submit(A2, ids, SamplingParams(max_tokens=24)),
    ]
    (stopped, f1), (three, f2), (one, f3), (whole, f4) = await asyncio.gather(
        *(collect(h) for h in handles)
    )
    assert isinstance(f1, Finished)
    assert (stopped, f1.finish_reason) == (expected, "stop")
    assert 0 < f1.completion_tokens < 24
    assert isinstance(f2, Finished)
    assert (f2.finish_reason, f2.completion_tokens) == ("length", 3)
    assert isinstance(f3, Finished)
    assert (f3.finish_reason, f3.completion_tokens) == ("length", 1)
    assert three.startswith(one)
    assert whole.startswith(three)
    assert whole == full
    assert isinstance(f4, Finished)


async def test_unloading_waits_for_its_rows_and_loading_disturbs_no_row(
    batched: Scheduler, single: Scheduler, adapter_dirs: dict[str, Path]
) -> None:
    draining, late = "bot@3-drain003", "bot@4-late0004"
    await asyncio.to_thread(batched.load, draining, adapter_dirs[A1])
    ids = chat_ids(batched, PROMPTS[4])
    long = SamplingParams(max_tokens=200, ignore_eos=True)
    user = batched.submit(draining, ids, long)
    other = batched.submit(None, ids, long)
    results = asyncio.gather(collect(user), collect(other))
    assert user.row is not None
    row = user.row
    await eventually(
        lambda: len(row.tokens) >= 3, timeout=30, interval=0.002, what="the row decoding"
    )

    unloading = asyncio.ensure_future(asyncio.to_thread(batched.unload, draining))
    await eventually(lambda: draining not in batched.adapters, timeout=10, what="draining")
    with pytest.raises(AdapterProblem):
        batched.submit(draining, ids, long)
    await asyncio.to_thread(batched.load, late, adapter_dirs[A2])  # while both rows run
    assert not unloading.done()
    assert not row.done

    (user_text, user_final), (other_text, _) = await results
    await unloading
    assert draining not in batched.model.adapters
    assert isinstance(user_final, Finished)
    assert user_final.completion_tokens == 200
    assert user_text == await alone(single, A1, ids, max_tokens=200, ignore_eos=True)
    assert other_text == await alone(single, None, ids, max_tokens=200, ignore_eos=True)
    assert await alone(batched, late, ids, max_tokens=8) == await alone(
        single, A2, ids, max_tokens=8
    )
    await asyncio.to_thread(batched.unload, late)


async def test_a_request_that_fails_leaves_the_others_running(
    batched: Scheduler, single: Scheduler
) -> None:
    ids = chat_ids(batched, PROMPTS[0])
    vocab = batched.model.base.config.vocab_size
    handles = [
        batched.submit(A1, ids, SamplingParams(max_tokens=20, ignore_eos=True)),
        batched.submit(None, [*ids[:-1], vocab + 7], SamplingParams(max_tokens=20)),
        batched.submit(A2, ids, SamplingParams(max_tokens=20, ignore_eos=True)),
    ]
    (one, f1), (_, bad), (two, f2) = await asyncio.gather(*(collect(h) for h in handles))
    assert isinstance(bad, Failed)
    assert isinstance(f1, Finished)
    assert isinstance(f2, Finished)
    assert one == await alone(single, A1, ids, max_tokens=20, ignore_eos=True)
    assert two == await alone(single, A2, ids, max_tokens=20, ignore_eos=True)


def sse(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.split("\n\n") if line.startswith("data: {")]


async def test_streams_of_a_shared_batch_each_carry_their_own_tokens_in_order(
    batched: Scheduler,
) -> None:
    app = create_engine_app(batched, "tiny-llama", limit=64)
    bodies = [
        {"model": model, "messages": [{"role": "user", "content": p}], "max_tokens": 20}
        for model, p in (("tiny-llama", PROMPTS[0]), (A1, PROMPTS[1]), (A2, PROMPTS[3]))
    ]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://engine"
    ) as client:
        plain = await asyncio.gather(*(client.post("/v1/chat/completions", json=b) for b in bodies))
        streamed = await asyncio.gather(
            *(
                client.post(
                    "/v1/chat/completions",
                    json={**b, "stream": True, "stream_options": {"include_usage": True}},
                )
                for b in bodies
            )
        )
        bad = await asyncio.gather(
            client.post("/v1/chat/completions", json={**bodies[0], "temperature": -1}),
            client.post("/v1/completions", json={"model": "tiny-llama", "prompt": "word " * 400}),
            client.post("/v1/chat/completions", json={**bodies[0], "model": "nope@1-00000000"}),
            client.post("/v1/chat/completions", content=b"{not json"),
            client.post("/v1/chat/completions", json={**bodies[1], "stream": True}),
        )
    assert [r.status_code for r in bad] == [400, 400, 404, 400, 200]
    assert all(r.json()["error"]["message"] for r in bad[:4])
    for response, stream in zip(plain, streamed, strict=True):
        expected = response.json()
        events = sse(stream.text)
        assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
        pieces = [e["choices"][0]["delta"].get("content", "") for e in events[1:-2]]
        assert len(pieces) > 1, "one chunk per decoded piece"
        assert all(pieces)
        assert "".join(pieces) == expected["choices"][0]["message"]["content"]
        assert events[-2]["choices"][0]["finish_reason"] == expected["choices"][0]["finish_reason"]
        assert events[-1]["usage"] == expected["usage"]
        assert {e["id"] for e in events} == {events[0]["id"]}
        assert stream.text.rstrip().endswith("data: [DONE]")
