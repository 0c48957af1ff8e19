"""The embedded engine with continuous batching against the same engine one request at a time
(``max_batch=1``): tokens/s and p50 latency at concurrency 1 and 8, requests spread over the
base model and two LoRA adapters, both arms back to back in one run on the same loaded model.

SmolLM2-135M-Instruct is used when it is already prepared (``tuneloop up`` caches it under
``TUNELOOP_MODELS_DIR``, by default ``.tuneloop/models``), else the tiny test model.
"""

import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import Comparison
from libs.models.registry import SMOLLM2, TINY_LLAMA, is_model_directory, resolve_base_model
from libs.models.tiny import random_lora_adapter
from services.router.engine.model import AdapterModel
from services.router.engine.sampling import SamplingParams
from services.router.engine.scheduler import Delta, Finished, Scheduler

BATCH = 8
CONCURRENCIES = (1, 8)
ADAPTERS = ("bench@1-aaaaaaaa", "bench@2-bbbbbbbb")
TOPICS = [
    "my printer is broken again",
    "I was charged twice for the same order, please refund one",
    "the app crashes when I open settings",
    "how do I change the email on my account?",
    "the package arrived damaged and the box was wet",
    "can I upgrade my plan in the middle of the month",
    "password reset link never arrives",
    "your website is very slow today",
]


@dataclass(frozen=True)
class Run:
    tokens_per_second: float
    p50_seconds: float
    texts: list[str]


def choose_model(work: Path) -> tuple[str, Path, int, int]:
    """(name, directory, tokens per answer, requests at concurrency 1)."""
    cache = Path(os.environ.get("TUNELOOP_MODELS_DIR", ".tuneloop/models"))
    if is_model_directory(cache / SMOLLM2):
        return SMOLLM2, cache / SMOLLM2, 32, 4
    return TINY_LLAMA, resolve_base_model(TINY_LLAMA, work / "models"), 64, 8


async def one(
    scheduler: Scheduler, prompt: list[int], adapter: str | None, tokens: int
) -> tuple[str, float]:
    started = time.perf_counter()
    handle = scheduler.submit(adapter, prompt, SamplingParams(max_tokens=tokens, ignore_eos=True))
    pieces = []
    async for event in handle.events():
        if isinstance(event, Delta):
            pieces.append(event.text)
        elif not isinstance(event, Finished):
            raise RuntimeError(f"the engine failed a request: {event}")
    return "".join(pieces), time.perf_counter() - started


async def drive(
    scheduler: Scheduler, prompts: list[list[int]], concurrency: int, tokens: int
) -> Run:
    gate = asyncio.Semaphore(concurrency)
    adapters = [None, *ADAPTERS]

    async def limited(i: int) -> tuple[str, float]:
        async with gate:
            return await one(scheduler, prompts[i], adapters[i % len(adapters)], tokens)

    started = time.perf_counter()
    results = await asyncio.gather(*(limited(i) for i in range(len(prompts))))
    wall = time.perf_counter() - started
    return Run(
        tokens * len(prompts) / wall,
        statistics.median(seconds for _, seconds in results),
        [text for text, _ in results],
    )


def arm(
    model: AdapterModel, max_batch: int, prompts: list[list[int]], concurrency: int, tokens: int
) -> Run:
    scheduler = Scheduler(model, max_batch).start()
    try:
        asyncio.run(drive(scheduler, prompts[:1], 1, 4))  # warm-up
        return asyncio.run(drive(scheduler, prompts, concurrency, tokens))
    finally:
        scheduler.stop()


def run_engine_benchmark() -> list[Comparison]:
    with tempfile.TemporaryDirectory(prefix="tuneloop-engine-bench-") as tmp:
        work = Path(tmp)
        name, model_dir, tokens, single_requests = choose_model(work)
        model = AdapterModel(model_dir, threads=2)
        for seed, adapter in enumerate(ADAPTERS, start=1):
            model.load(adapter, random_lora_adapter(model_dir, work / adapter, seed))
        chats = [
            model.prompt_ids(
                [{"role": "user", "content": f"Ticket {i}: {TOPICS[i % len(TOPICS)]}"}], None
            )
            for i in range(BATCH * 3)
        ]
        prompts = {1: chats[:single_requests], BATCH: chats}
        load_before = os.getloadavg()
        batched: dict[int, Run] = {}
        single: dict[int, Run] = {}
        for c in CONCURRENCIES:  # the two arms back to back at each concurrency
            batched[c] = arm(model, BATCH, prompts[c], c, tokens)
            single[c] = arm(model, 1, prompts[c], c, tokens)
        load_after = os.getloadavg()
    for c in CONCURRENCIES:
        if batched[c].texts != single[c].texts:
            raise RuntimeError(f"batched and unbatched greedy answers differ at concurrency {c}")
    print(
        f"engine: {name}, {tokens} tokens per answer, base + {len(ADAPTERS)} adapters mixed, "
        f"max batch {BATCH} vs 1; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after"
    )
    comparisons = []
    for c in CONCURRENCIES:
        comparisons.append(
            Comparison(
                f"engine ({name}), concurrency {c}",
                "completion tokens/s",
                f"continuous batching (max batch {BATCH})",
                batched[c].tokens_per_second,
                "one request at a time (max batch 1)",
                single[c].tokens_per_second,
            )
        )
        comparisons.append(
            Comparison(
                f"engine ({name}), concurrency {c}",
                "p50 request latency (ms)",
                f"continuous batching (max batch {BATCH})",
                batched[c].p50_seconds * 1000,
                "one request at a time (max batch 1)",
                single[c].p50_seconds * 1000,
                higher_is_better=False,
            )
        )
    return comparisons


__all__ = ["run_engine_benchmark"]
