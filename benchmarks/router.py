"""Router overhead side by side: direct to the upstream, through tuneloop's router, and
through a LiteLLM proxy configured for the same 50/50 weighted split.

All three hit the same minimal OpenAI-compatible server on 127.0.0.1, so the differences are
what each proxy adds. LiteLLM is installed into its own virtual environment on first run.
"""

import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks.report import Comparison
from libs.storage import Database, migrate_to_head
from libs.supervision.nats_server import EmbeddedNats
from libs.supervision.process import ManagedProcess
from services.router.assignment import Variant, assign
from services.router.tables import Servable

LITELLM_VERSION = "1.106.0"
LITELLM_VENV = Path(".tuneloop/bench/litellm-venv")
SEQUENTIAL = 400
CONCURRENT = 3000
CONCURRENCY = 32
BODY = {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}
SPLIT_UNITS = 100_000
SPLIT_TARGET_PP = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


@contextmanager
def process(name: str, argv: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    child = ManagedProcess(name, argv, env={**os.environ, **env}, log_path=log)
    child.start()
    try:
        yield
    finally:
        child.stop(grace_seconds=5)


def ensure_litellm() -> Path:
    binary = LITELLM_VENV / "bin" / "litellm"
    if not binary.exists():
        print(f"installing litellm {LITELLM_VERSION} into {LITELLM_VENV} (once)…", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
        subprocess.run(
            [
                str(LITELLM_VENV / "bin" / "pip"),
                "install",
                "-q",
                f"litellm[proxy]=={LITELLM_VERSION}",
            ],
            check=True,
        )
    return binary


def litellm_config(upstream: str, directory: Path) -> Path:
    entries = [
        {
            "model_name": "bench",
            "litellm_params": {
                "model": "openai/bench-base",
                "api_base": f"{upstream}/v1",
                "api_key": "unused",
                "weight": 1,
            },
        }
        for _ in range(2)
    ]
    path = directory / "litellm.json"
    path.write_text(
        json.dumps(
            {
                "model_list": entries,
                "router_settings": {"routing_strategy": "simple-shuffle"},
                "litellm_settings": {"telemetry": False},
            }
        )
    )
    return path


async def seed_router_database(url: str) -> None:
    await migrate_to_head(url)
    database = Database(url)
    async with database.transaction() as session:
        for version, digest in ((1, "a"), (2, "b")):
            session.add(
                Servable(
                    tenant="default",
                    serving_name=f"bench@{version}-{digest * 8}",
                    model_name="bench",
                    version=version,
                    base_model="bench-base",
                )
            )
    await database.dispose()


async def timed(client: httpx.AsyncClient, url: str, model: str) -> float:
    started = time.perf_counter()
    response = await client.post(url, json={**BODY, "model": model, "user": uuid.uuid4().hex})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
    return elapsed * 1000


async def first_byte_ms(client: httpx.AsyncClient, url: str, model: str) -> float:
    started = time.perf_counter()
    async with client.stream("POST", url, json={**BODY, "model": model, "stream": True}) as r:
        async for _ in r.aiter_raw():
            return (time.perf_counter() - started) * 1000
    raise RuntimeError("empty stream")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


async def measure(url: str, model: str) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64)) as client:
        for _ in range(50):
            await timed(client, url, model)
        sequential = [await timed(client, url, model) for _ in range(SEQUENTIAL)]
        ttft = [await first_byte_ms(client, url, model) for _ in range(200)]
        semaphore = asyncio.Semaphore(CONCURRENCY)
        failures: list[str] = []

        async def one() -> None:
            async with semaphore:
                try:
                    await timed(client, url, model)
                except (RuntimeError, httpx.HTTPError) as exc:
                    failures.append(str(exc))  # a proxy that fails under load: counted

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(CONCURRENT)))
        throughput = (CONCURRENT - len(failures)) / (time.perf_counter() - started)
    if failures:
        print(
            f"{url}: {len(failures)} of {CONCURRENT} failed, e.g. {failures[0][:300]}",
            file=sys.stderr,
        )
    result = {
        "p50": percentile(sequential, 50),
        "p99": percentile(sequential, 99),
        "ttft_p50": percentile(ttft, 50),
        "rps": throughput,
        "failed": float(len(failures)),
    }
    print(f"{url}: {json.dumps(result)}", file=sys.stderr)
    return result


def split_error_pp(units: int = SPLIT_UNITS, share: float = 0.5) -> float:
    """How far the treatment's share of ``units`` distinct units lands from its weight, in
    percentage points (the router's sticky hash assignment, as a new experiment salts it)."""
    variants = [
        Variant("a", "bench@1-aaaaaaaa", 1 - share, True),
        Variant("b", "bench@2-bbbbbbbb", share, False),
    ]
    salt = uuid.uuid4().hex[:16]
    treated = sum(not assign(salt, uuid.uuid4().hex, variants)[0].is_control for _ in range(units))
    return abs(treated / units - share) * 100


def run_router_benchmark() -> list[Comparison]:
    litellm = ensure_litellm()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        upstream_port, router_port, litellm_port = free_port(), free_port(), free_port()
        upstream = f"http://127.0.0.1:{upstream_port}"
        database_url = f"sqlite+aiosqlite:///{home / 'router.db'}"
        asyncio.run(seed_router_database(database_url))
        with (
            EmbeddedNats(home / "nats") as nats_server,
            process(
                "upstream",
                [sys.executable, "-m", "benchmarks.fast_upstream", str(upstream_port)],
                {},
                home / "upstream.log",
            ),
            process(
                "router",
                [sys.executable, "-m", "services.router"],
                {
                    "TUNELOOP_HOME": str(home),
                    "TUNELOOP_NATS_URL": nats_server.url,
                    "TUNELOOP_DATABASE_URL": database_url,
                    "TUNELOOP_LOG_LEVEL": "WARNING",
                    "TUNELOOP_ROUTER_PORT": str(router_port),
                    "TUNELOOP_ROUTER_UPSTREAMS": f"bench-base={upstream}",
                    "TUNELOOP_INTERNAL_SECRET": secrets.token_urlsafe(32),
                },
                home / "router.log",
            ),
            process(
                "litellm",
                [
                    str(litellm),
                    "--config",
                    str(litellm_config(upstream, home)),
                    "--port",
                    str(litellm_port),
                    "--num_workers",
                    "1",
                ],
                {
                    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                    "LITELLM_LOG": "ERROR",
                    "DISABLE_SCHEMA_UPDATE": "True",
                    # neither proxy checks keys in this comparison
                    "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
                },
                home / "litellm.log",
            ),
        ):
            wait_for(f"{upstream}/v1/models")
            router = f"http://127.0.0.1:{router_port}"
            wait_for(f"{router}/v1/models")
            created = httpx.post(
                f"{router}/v1/experiments",
                json={
                    "name": "bench",
                    "model_name": "bench",
                    "control": {"name": "a", "serving_name": "bench@1-aaaaaaaa", "weight": 0.5},
                    "treatments": [
                        {"name": "b", "serving_name": "bench@2-bbbbbbbb", "weight": 0.5}
                    ],
                },
            )
            created.raise_for_status()
            time.sleep(1.5)  # the router's catalog snapshot refreshes every second
            wait_for(f"http://127.0.0.1:{litellm_port}/health/liveliness", timeout=180)
            direct = asyncio.run(measure(f"{upstream}/v1/chat/completions", "bench-base"))
            ours = asyncio.run(measure(f"{router}/v1/chat/completions", "bench"))
            peer = asyncio.run(
                measure(f"http://127.0.0.1:{litellm_port}/v1/chat/completions", "bench")
            )
    return report(direct, ours, peer, split_error_pp())


def report(
    direct: dict[str, float], ours: dict[str, float], peer: dict[str, float], split_pp: float
) -> list[Comparison]:
    def added(result: dict[str, float], key: str) -> float:
        return max(result[key] - direct[key], 0.001)

    return [
        Comparison(
            "router",
            "added latency p50 at concurrency 1 (ms)",
            "tuneloop router",
            added(ours, "p50"),
            "LiteLLM proxy",
            added(peer, "p50"),
            higher_is_better=False,
        ),
        Comparison(
            "router",
            "added latency p99 at concurrency 1 (ms)",
            "tuneloop router",
            added(ours, "p99"),
            "LiteLLM proxy",
            added(peer, "p99"),
            higher_is_better=False,
        ),
        Comparison(
            "router",
            "added time to first byte, streaming (ms)",
            "tuneloop router",
            added(ours, "ttft_p50"),
            "LiteLLM proxy",
            added(peer, "ttft_p50"),
            higher_is_better=False,
        ),
        Comparison(
            "router",
            f"requests/s at concurrency {CONCURRENCY} (direct: {direct['rps']:.0f}; "
            f"failed: ours {ours['failed']:.0f}, LiteLLM {peer['failed']:.0f} of {CONCURRENT})",
            "tuneloop router",
            ours["rps"],
            "LiteLLM proxy",
            peer["rps"],
        ),
        Comparison(
            "router",
            f"50/50 split error at {SPLIT_UNITS:,} units (percentage points)",
            "tuneloop router (sticky hash)",
            max(split_pp, 0.001),
            "target",
            SPLIT_TARGET_PP,
            higher_is_better=False,
        ),
    ]


__all__ = ["run_router_benchmark"]
