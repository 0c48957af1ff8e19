"""The registry and the router assembled as their processes assemble them, on real NATS."""

import io
import tarfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.artifacts import LocalArtifactStore
from libs.messaging import Subjects
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from services.registry.service import DEFINITION as REGISTRY
from services.registry.service import registry_of
from services.router.service import DEFINITION as ROUTER
from services.router.settings import RouterSettings
from tests.fakes.openai_upstream import ServerThread, fake_vllm
from tests.support.identity import TEST_SECRET, ClaimedTenantsSigned

BASE = "base-a"
OTHER_BASE = "base-b"


@dataclass
class Stack:
    registry: AssembledService
    router: AssembledService
    upstream: ServerThread
    other_upstream: ServerThread
    artifacts: LocalArtifactStore
    client: httpx.AsyncClient

    async def adapter(self, answer: str) -> str:
        """An adapter directory (as the trainer stores it) that answers ``answer``."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            data = answer.encode()
            info = tarfile.TarInfo("answer.txt")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        return (await self.artifacts.put_bytes(buffer.getvalue())).sha256


@pytest.fixture
def upstream() -> Iterator[ServerThread]:
    server = ServerThread(fake_vllm(BASE)).start()
    yield server
    server.stop()


@pytest.fixture
def other_upstream() -> Iterator[ServerThread]:
    server = ServerThread(fake_vllm(OTHER_BASE)).start()
    yield server
    server.stop()


@pytest.fixture
async def stack(
    nats_url: str,
    subjects: Subjects,
    migrated_database_url: str,
    tmp_path: Path,
    upstream: ServerThread,
    other_upstream: ServerThread,
) -> AsyncIterator[Stack]:
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "subject_prefix": subjects.prefix,
        "database_url": migrated_database_url,
        "artifacts_dir": tmp_path / "artifacts",
        "home": tmp_path,
        "internal_secret": TEST_SECRET,
    }
    registry = assemble(REGISTRY, REGISTRY.settings(**common))
    router = assemble(
        ROUTER,
        RouterSettings(
            **common,
            upstreams=f"{BASE}={upstream.url},{OTHER_BASE}={other_upstream.url}",
            adapter_dir=tmp_path / "adapters",
        ),
    )
    await start_messaging(registry)
    await start_messaging(router)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=router.api),
        base_url="http://router",
        auth=ClaimedTenantsSigned(),  # X-Tuneloop-Tenant as the gateway sends it
    )
    try:
        yield Stack(
            registry,
            router,
            upstream,
            other_upstream,
            LocalArtifactStore(tmp_path / "artifacts"),
            client,
        )
    finally:
        await client.aclose()
        await stop_messaging(router)
        await stop_messaging(registry)


__all__ = ["BASE", "OTHER_BASE", "Stack", "registry_of"]
