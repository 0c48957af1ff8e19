"""Adapters on upstreams: loaded once under their immutable name, unloaded after draining."""

import asyncio
import logging
import time
from collections import Counter
from pathlib import Path

from libs.artifacts import ArtifactStore, restore_directory
from services.router.catalog import Target
from services.router.upstreams import Upstream

logger = logging.getLogger("tuneloop.router.adapters")

DRAIN_TIMEOUT_SECONDS = 120.0


class AdapterManager:
    def __init__(self, artifacts: ArtifactStore, adapter_dir: Path) -> None:
        self.artifacts = artifacts
        self.adapter_dir = adapter_dir
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.in_flight: Counter[str] = Counter()

    async def local_path(self, serving_name: str, sha256: str) -> Path:
        """The adapter unpacked where the upstream reads it (done once per serving name)."""
        destination = self.adapter_dir / serving_name
        if not (destination / ".complete").exists():
            partial = self.adapter_dir / f".{serving_name}.partial"
            await restore_directory(self.artifacts, sha256, partial)
            partial.rename(destination)
            (destination / ".complete").touch()
        return destination

    async def ensure_loaded(self, target: Target, upstream: Upstream) -> None:
        if target.artifact_sha256 is None or target.serving_name in upstream.loaded:
            return
        key = (upstream.base_url, target.serving_name)
        async with self._locks.setdefault(key, asyncio.Lock()):
            if target.serving_name in upstream.loaded:
                return
            path = await self.local_path(target.serving_name, target.artifact_sha256)
            started = time.perf_counter()
            await upstream.load_adapter(target.serving_name, str(path))
            logger.info(
                "loaded %s on %s in %.0f ms",
                target.serving_name,
                upstream.base_url,
                (time.perf_counter() - started) * 1000,
            )

    async def unload_after_drain(self, serving_name: str, upstreams: list[Upstream]) -> None:
        """Wait until no request uses ``serving_name`` any more, then unload it everywhere."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while self.in_flight[serving_name] > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for upstream in upstreams:
            if serving_name in upstream.loaded:
                await upstream.unload_adapter(serving_name)
                logger.info("unloaded %s from %s", serving_name, upstream.base_url)


__all__ = ["AdapterManager"]
