"""The real vLLM tier: vLLM's CPU build serves the tiny test model with runtime LoRA loading,
and the registry and the router (assembled as their processes assemble them, on real NATS and
real databases) drive it.

One vLLM server serves the whole session (it takes ~3 GiB and most of a minute to start);
each test uses its own model names, so adapters of different tests never meet.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.api.registry import DeployRequest, RegisterRequest
from libs.messaging import Subjects
from libs.models.tiny import build_tiny_llama, random_lora_adapter
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from libs.supervision.vllm import VllmOptions, VllmServer
from services.registry.service import DEFINITION as REGISTRY
from services.registry.service import registry_of
from services.router.service import DEFINITION as ROUTER
from services.router.settings import RouterSettings
from tests.support.identity import TEST_SECRET, ClaimedTenantsSigned

BASE = "tiny-llama"
TENANT = "acme"
HEADERS = {"X-Tuneloop-Tenant": TENANT}
PROMPT = [{"role": "user", "content": "route: printer is broken"}]
MAX_TOKENS = 8
VLLM_HEADS = 2


def chat_body(model: str, user: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": PROMPT,
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
    }
    if user is not None:
        body["user"] = user
    return body


@pytest.fixture(scope="session")
def vllm_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama with two 32-wide heads: vLLM's CPU attention has no 16-wide kernel."""
    return build_tiny_llama(tmp_path_factory.mktemp("vllm-model") / BASE, heads=VLLM_HEADS)


@pytest.fixture(scope="session")
def vllm_server(vllm_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """vLLM serving the tiny model as ``tiny-llama``, stopped by PID at the end."""
    logs = tmp_path_factory.mktemp("vllm")
    server = VllmServer(VllmOptions(vllm_model_dir, BASE), log_path=logs / "vllm.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def adapter_dirs(vllm_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("adapters")
    return [random_lora_adapter(vllm_model_dir, root / f"v{seed}", seed) for seed in (1, 2)]


@pytest.fixture(scope="session")
def expected_answers(vllm_server: str, adapter_dirs: list[Path]) -> list[str]:
    """What vLLM itself answers with each adapter (loaded under probe names, then unloaded)."""
    answers = []
    with httpx.Client(base_url=vllm_server, timeout=60) as client:
        for path in adapter_dirs:
            name = f"probe-{uuid.uuid4().hex[:8]}"
            loaded = client.post(
                "/v1/load_lora_adapter", json={"lora_name": name, "lora_path": str(path)}
            )
            assert loaded.status_code == 200, loaded.text
            response = client.post("/v1/chat/completions", json=chat_body(name))
            assert response.status_code == 200, response.text
            answers.append(response.json()["choices"][0]["message"]["content"])
            client.post("/v1/unload_lora_adapter", json={"lora_name": name})
        base = client.post("/v1/chat/completions", json=chat_body(BASE))
    assert len({*answers, base.json()["choices"][0]["message"]["content"]}) == 3, answers
    return answers


@dataclass
class VllmStack:
    registry: AssembledService
    router: AssembledService
    vllm_url: str
    client: httpx.AsyncClient
    settings: dict[str, Any]
    model_name: str = field(default_factory=lambda: f"bot-{uuid.uuid4().hex[:8]}")

    async def register(self, adapter: Path) -> tuple[int, str]:
        """Register an adapter directory (the registry stores it); its version and name."""
        version = await registry_of(self.registry.context).register(
            TENANT,
            RegisterRequest(model_name=self.model_name, base_model=BASE, adapter_path=str(adapter)),
        )
        return version.version, version.serving_name

    async def deploy(self, version: int) -> None:
        """Point the production alias at ``version``: the registry emits ``model.deployed``."""
        await registry_of(self.registry.context).deploy(
            TENANT, self.model_name, DeployRequest(version=version)
        )

    async def chat(self, model: str, user: str | None = None) -> httpx.Response:
        return await self.client.post(
            "/v1/chat/completions", json=chat_body(model, user), headers=HEADERS
        )

    async def vllm_models(self) -> set[str]:
        async with httpx.AsyncClient(base_url=self.vllm_url, timeout=10) as client:
            response = await client.get("/v1/models")
        return {model["id"] for model in response.json()["data"]}

    async def forget_adapters(self) -> None:
        """Unload this test's adapters from the session's vLLM."""
        async with httpx.AsyncClient(base_url=self.vllm_url, timeout=30) as client:
            for name in await self.vllm_models():
                if name.startswith(f"{self.model_name}@"):
                    await client.post("/v1/unload_lora_adapter", json={"lora_name": name})

    async def load_directly(self, serving_name: str, adapter: Path) -> None:
        """Load an adapter into vLLM behind the router's back."""
        async with httpx.AsyncClient(base_url=self.vllm_url, timeout=60) as client:
            response = await client.post(
                "/v1/load_lora_adapter", json={"lora_name": serving_name, "lora_path": str(adapter)}
            )
        assert response.status_code == 200, response.text

    async def restart_router(self) -> None:
        """Stop the router and start a new one on the same database and adapter directory."""
        await self.client.aclose()
        await stop_messaging(self.router)
        self.router = assemble(ROUTER, RouterSettings(**self.settings))
        await start_messaging(self.router)
        self.client = router_client(self.router)


def router_client(router: AssembledService) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=router.api),
        base_url="http://router",
        timeout=60,
        auth=ClaimedTenantsSigned(),  # X-Tuneloop-Tenant as the gateway sends it
    )


@pytest.fixture
async def vllm_stack(
    nats_url: str,
    subjects: Subjects,
    migrated_database_url: str,
    tmp_path: Path,
    vllm_server: str,
    expected_answers: list[str],
) -> AsyncIterator[VllmStack]:
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "subject_prefix": subjects.prefix,
        "database_url": migrated_database_url,
        "artifacts_dir": tmp_path / "artifacts",
        "home": tmp_path,
        "internal_secret": TEST_SECRET,
    }
    router_settings = {
        **common,
        "upstreams": f"{BASE}={vllm_server}",
        "adapter_dir": tmp_path / "adapters",
    }
    registry = assemble(REGISTRY, REGISTRY.settings(**common))
    router = assemble(ROUTER, RouterSettings(**router_settings))
    await start_messaging(registry)
    await start_messaging(router)
    stack = VllmStack(registry, router, vllm_server, router_client(router), router_settings)
    try:
        yield stack
    finally:
        await stack.forget_adapters()
        await stack.client.aclose()
        await stop_messaging(stack.router)
        await stop_messaging(registry)


__all__ = ["BASE", "HEADERS", "TENANT", "VllmStack", "chat_body"]
