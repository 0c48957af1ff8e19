"""The catalog's snapshot: served from memory, refreshed in the background under traffic,
read again before answering once this replica changed the tables (an alias moved)."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from services.router.catalog import REFRESH_AFTER_SECONDS, SNAPSHOT_SECONDS, Catalog, Snapshot
from services.router.tables import Route, Servable
from tests.polling import eventually

pytestmark = pytest.mark.unit

TENANT = "acme"


class Tables(Catalog):
    """A catalog over in-memory tables; a load can be held open to race it."""

    def __init__(self) -> None:
        super().__init__(database=None, configured_base_models=set())  # type: ignore[arg-type]
        self.production = "bot@1-aaaaaaaa"
        self.loads = 0
        self.gate: asyncio.Event | None = None

    async def _load(self) -> Snapshot:
        self.loads += 1
        serving_name = self.production  # read when the load starts, like a query
        if self.gate is not None:
            await self.gate.wait()
        servables = {
            (TENANT, name): Servable(
                tenant=TENANT, serving_name=name, model_name="bot", version=v, base_model="b"
            )
            for v, name in enumerate(["bot@1-aaaaaaaa", "bot@2-bbbbbbbb"], start=1)
        }
        route = Route(tenant=TENANT, model_name="bot", alias="production", serving_name="")
        route.serving_name = serving_name
        return Snapshot(
            servables=servables,
            routes={(TENANT, "bot", "production"): route},
            loaded_at=time.monotonic(),
        )

    async def serving(self) -> str:
        return (await self.resolve(TENANT, "bot", "unit-1")).serving_name

    def serving_is(self, name: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return await self.serving() == name

        return check

    async def age_by(self, seconds: float) -> None:
        (await self.snapshot()).loaded_at -= seconds


async def test_a_fresh_snapshot_is_served_from_memory() -> None:
    catalog = Tables()
    assert await catalog.serving() == "bot@1-aaaaaaaa"
    for _ in range(100):
        await catalog.serving()
    assert catalog.loads == 1


async def test_an_alias_moved_here_is_served_by_the_very_next_request() -> None:
    catalog = Tables()
    assert await catalog.serving() == "bot@1-aaaaaaaa"
    catalog.production = "bot@2-bbbbbbbb"
    catalog.invalidate()
    assert await catalog.serving() == "bot@2-bbbbbbbb"
    assert catalog.loads == 2


async def test_under_traffic_the_reload_happens_behind_the_requests() -> None:
    catalog = Tables()
    await catalog.serving()
    catalog.production = "bot@2-bbbbbbbb"  # moved by another replica
    catalog.gate = asyncio.Event()
    await catalog.age_by(REFRESH_AFTER_SECONDS + 0.01)
    # the request that notices the age does not wait for the held reload
    assert await catalog.serving() == "bot@1-aaaaaaaa"
    assert await catalog.serving() == "bot@1-aaaaaaaa"
    catalog.gate.set()
    await eventually(lambda: catalog.loads == 2, what="one background reload")
    await eventually(catalog.serving_is("bot@2-bbbbbbbb"), what="the moved alias")
    assert catalog.loads == 2


async def test_an_expired_snapshot_is_read_again_before_answering() -> None:
    catalog = Tables()
    await catalog.serving()
    catalog.production = "bot@2-bbbbbbbb"
    await catalog.age_by(SNAPSHOT_SECONDS + 0.01)
    assert await catalog.serving() == "bot@2-bbbbbbbb"


async def test_a_background_reload_overtaken_by_a_change_here_is_not_used() -> None:
    catalog = Tables()
    await catalog.serving()
    catalog.gate = asyncio.Event()
    await catalog.age_by(REFRESH_AFTER_SECONDS + 0.01)
    await catalog.serving()  # starts the background reload, which read v1 and is held
    await eventually(lambda: catalog.loads == 2, what="the background reload started")
    catalog.production = "bot@2-bbbbbbbb"
    catalog.invalidate()
    catalog.gate.set()
    assert await catalog.serving() == "bot@2-bbbbbbbb"
