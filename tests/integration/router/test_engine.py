"""The embedded engine: the tiny model with LoRA adapters loaded and removed at run time,
behind the same API as vLLM (the router cannot tell them apart)."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.router.engine.app import create_engine_app
from services.router.engine.model import AdapterModel
from services.router.engine.scheduler import Scheduler

pytestmark = pytest.mark.integration

CHAT = {
    "messages": [{"role": "user", "content": "route: printer is broken"}],
    "max_tokens": 8,
    "temperature": 0,
}


@pytest.fixture(scope="module")
def engine_model(tiny_model_dir: Path) -> Iterator[Scheduler]:
    scheduler = Scheduler(AdapterModel(tiny_model_dir, threads=1), max_batch=4).start()
    yield scheduler
    scheduler.stop()


def random_adapter(model_dir: Path, target: Path, seed: int) -> Path:
    """A LoRA adapter with non-zero weights, so it changes what the model says."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    config = LoraConfig(
        r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(base, config).save_pretrained(target)
    return target


async def chat(client: httpx.AsyncClient, model: str, **extra: object) -> httpx.Response:
    return await client.post("/v1/chat/completions", json={**CHAT, "model": model, **extra})


async def test_adapters_load_serve_and_unload(
    engine_model: Scheduler, tiny_model_dir: Path, tmp_path: Path
) -> None:
    app = create_engine_app(engine_model, "tiny-llama", limit=64)
    first = random_adapter(tiny_model_dir, tmp_path / "v1", seed=1)
    second = random_adapter(tiny_model_dir, tmp_path / "v2", seed=2)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://engine"
    ) as client:
        base = (await chat(client, "tiny-llama")).json()
        for name, path in (("bot@1-aaaaaaaa", first), ("bot@2-bbbbbbbb", second)):
            loaded = await client.post(
                "/v1/load_lora_adapter", json={"lora_name": name, "lora_path": str(path)}
            )
            assert loaded.status_code == 200, loaded.text
        again = await client.post(
            "/v1/load_lora_adapter", json={"lora_name": "bot@1-aaaaaaaa", "lora_path": str(first)}
        )
        assert again.status_code == 400
        assert "already been loaded" in again.json()["error"]["message"]
        models = (await client.get("/v1/models")).json()
        assert [m["id"] for m in models["data"]] == [
            "tiny-llama",
            "bot@1-aaaaaaaa",
            "bot@2-bbbbbbbb",
        ]

        one = (await chat(client, "bot@1-aaaaaaaa")).json()
        two = (await chat(client, "bot@2-bbbbbbbb")).json()
        texts = {r["choices"][0]["message"]["content"] for r in (base, one, two)}
        assert len(texts) == 3, "each adapter changes the answer"
        assert (await chat(client, "tiny-llama")).json()["choices"] == base["choices"]
        assert one["usage"]["completion_tokens"] > 0

        streamed = await chat(
            client, "bot@1-aaaaaaaa", stream=True, stream_options={"include_usage": True}
        )
        events = [
            json.loads(line[6:])
            for line in streamed.text.split("\n\n")
            if line.startswith("data: {")
        ]
        text = "".join(
            e["choices"][0].get("delta", {}).get("content", "") for e in events if e["choices"]
        )
        assert text == one["choices"][0]["message"]["content"]
        assert events[-1]["usage"]["prompt_tokens"] == one["usage"]["prompt_tokens"]
        assert streamed.text.rstrip().endswith("data: [DONE]")

        removed = await client.post("/v1/unload_lora_adapter", json={"lora_name": "bot@1-aaaaaaaa"})
        assert removed.status_code == 200
        gone = await chat(client, "bot@1-aaaaaaaa")
        assert gone.status_code == 404
        assert (await chat(client, "bot@2-bbbbbbbb")).json()["choices"] == two["choices"]
        await client.post("/v1/unload_lora_adapter", json={"lora_name": "bot@2-bbbbbbbb"})
        assert (await chat(client, "tiny-llama")).json()["choices"] == base["choices"]


async def test_a_missing_adapter_directory_is_a_vllm_style_error(
    engine_model: Scheduler, tmp_path: Path
) -> None:
    app = create_engine_app(engine_model, "tiny-llama", limit=64)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://engine"
    ) as client:
        response = await client.post(
            "/v1/load_lora_adapter",
            json={"lora_name": "x@1-00000000", "lora_path": str(tmp_path / "nothing")},
        )
    assert response.status_code == 400
    assert "adapter_config.json" in response.json()["error"]["message"]
