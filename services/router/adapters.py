"""Adapters on upstreams: loaded once under their immutable name, unloaded after draining."""

import asyncio
import logging
import shutil
import time
from collections import Counter
from pathlib import Path

from libs.artifacts import ArtifactStore, restore_directory
from services.router.catalog import SNAPSHOT_SECONDS, Target
from services.router.upstreams import Upstream

logger = logging.getLogger("tuneloop.router.adapters")

DRAIN_TIMEOUT_SECONDS = 120.0
ROUTE_SETTLE_SECONDS = SNAPSHOT_SECONDS + 0.5
"""Every replica's catalog snapshot has moved off a retired name after this long."""


class AdapterManager:
    def __init__(self, artifacts: ArtifactStore, adapter_dir: Path) -> None:
        self.artifacts = artifacts
        self.adapter_dir = adapter_dir
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._unpacking: dict[str, asyncio.Lock] = {}
        self.in_flight: Counter[str] = Counter()

    async def local_path(self, serving_name: str, sha256: str) -> Path:
        """The adapter unpacked where the upstream reads it (done once per serving name)."""
        destination = self.adapter_dir / serving_name
        async with self._unpacking.setdefault(serving_name, asyncio.Lock()):
            if not (destination / ".complete").exists():
                partial = self.adapter_dir / f".{serving_name}.partial"
                shutil.rmtree(partial, ignore_errors=True)  # left by an interrupted unpack
                await restore_directory(self.artifacts, sha256, partial)
                (partial / ".complete").touch()
                partial.rename(destination)
        return destination

    def _lock(self, upstream: Upstream, serving_name: str) -> asyncio.Lock:
        return self._locks.setdefault((upstream.base_url, serving_name), asyncio.Lock())

    async def ensure_loaded(self, target: Target, upstream: Upstream) -> None:
        if target.artifact_sha256 is None or target.serving_name in upstream.loaded:
            return
        async with self._lock(upstream, target.serving_name):
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

    async def reload(self, target: Target, upstream: Upstream) -> bool:
        """Load the adapter again if the upstream no longer has it (a restarted vLLM forgets
        every adapter); True if it did."""
        if target.artifact_sha256 is None:
            return False
        async with self._lock(upstream, target.serving_name):
            if await upstream.serves(target.serving_name):
                return False
            upstream.loaded.discard(target.serving_name)
        await self.ensure_loaded(target, upstream)
        logger.warning("%s had lost %s; loaded it again", upstream.base_url, target.serving_name)
        return True

    async def unload_after_drain(self, serving_name: str, upstreams: list[Upstream]) -> None:
        """Wait until no request uses ``serving_name`` any more, then unload it everywhere.

        A request that still picks the name meanwhile (a replica's older snapshot) finds it
        unloaded and loads it again, waiting on the same lock: it never reaches an upstream
        that has just dropped it.
        """
        await asyncio.sleep(ROUTE_SETTLE_SECONDS)
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        for upstream in upstreams:
            async with self._lock(upstream, serving_name):
                if serving_name not in upstream.loaded:
                    continue
                await self._drained(serving_name, deadline)
                upstream.loaded.discard(serving_name)
                await upstream.unload_adapter(serving_name)
            logger.info("unloaded %s from %s", serving_name, upstream.base_url)

    async def _drained(self, serving_name: str, deadline: float) -> None:
        while self.in_flight[serving_name] > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.in_flight[serving_name] > 0:
            logger.warning(
                "%s still has %d requests in flight after %.0f s; unloading anyway",
                serving_name,
                self.in_flight[serving_name],
                DRAIN_TIMEOUT_SECONDS,
            )


__all__ = ["AdapterManager"]
