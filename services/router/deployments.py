"""Registry events → what the router serves: load first, then shift traffic, then drain."""

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.events import (
    ModelArchived,
    ModelDeployed,
    ModelRegistered,
    ModelRolledBack,
    ModelRouted,
)
from contracts.events.models import ServableModelEvent
from libs.messaging import Bus, add_to_outbox, claim_message
from libs.storage import Database
from services.router.adapters import AdapterManager
from services.router.catalog import Target
from services.router.tables import Experiment, Route, Servable
from services.router.upstreams import NoUpstream, UpstreamPool

logger = logging.getLogger("tuneloop.router.deployments")
CONSUMER = "router__deployments"


async def upsert_servable(session: AsyncSession, event: ServableModelEvent) -> None:
    existing = (
        await session.execute(
            select(Servable).where(
                col(Servable.tenant) == event.tenant,
                col(Servable.serving_name) == event.serving_name,
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        session.add(
            Servable(
                tenant=event.tenant,
                serving_name=event.serving_name,
                model_name=event.model_name,
                version=event.version,
                base_model=event.base_model,
                artifact_sha256=event.artifact_sha256,
                external_model_id=event.external_model_id,
            )
        )


async def point_route(
    session: AsyncSession,
    tenant: str,
    model_name: str,
    alias: str,
    serving_name: str,
    revision: int,
) -> str | None:
    """Move the route unless a newer revision is already there; the name it replaced."""
    route = (
        await session.execute(
            select(Route).where(
                col(Route.tenant) == tenant,
                col(Route.model_name) == model_name,
                col(Route.alias) == alias,
            )
        )
    ).scalar_one_or_none()
    if route is None:
        session.add(
            Route(
                tenant=tenant,
                model_name=model_name,
                alias=alias,
                serving_name=serving_name,
                alias_revision=revision,
            )
        )
        return None
    if route.alias_revision >= revision:
        return None
    previous, route.serving_name, route.alias_revision = route.serving_name, serving_name, revision
    return previous


async def still_used(session: AsyncSession, tenant: str, serving_name: str) -> bool:
    routed = (
        await session.execute(
            select(Route.id).where(  # type: ignore[call-overload]
                col(Route.tenant) == tenant, col(Route.serving_name) == serving_name
            )
        )
    ).first()
    if routed:
        return True
    running = (
        await session.execute(
            select(Experiment).where(
                col(Experiment.tenant) == tenant, col(Experiment.status) == "running"
            )
        )
    ).scalars()
    return any(v["serving_name"] == serving_name for e in running for v in e.variants)


def routed(event: ModelDeployed | ModelRolledBack) -> ModelRouted:
    """What the router tells once ``event``'s alias routes to its version."""
    return ModelRouted(
        tenant=event.tenant,
        model_name=event.model_name,
        version=event.version,
        serving_name=event.serving_name,
        alias=event.alias,
        alias_revision=event.alias_revision,
    )


class Deployments:
    def __init__(
        self,
        database: Database,
        pool: UpstreamPool,
        adapters: AdapterManager,
        changed: Callable[[], None],
        bus: Bus | None = None,
    ) -> None:
        self.database = database
        self.pool = pool
        self.adapters = adapters
        self.changed = changed
        self.bus = bus
        """Publishes ``model.routed`` (through the outbox) once an alias's route moved."""

    async def preload(self, event: ServableModelEvent) -> None:
        """Make the adapter serve on every upstream of its base model before routing to it."""
        if event.artifact_sha256 is None:
            return
        target = Target(
            serving_name=event.serving_name,
            base_model=event.base_model,
            artifact_sha256=event.artifact_sha256,
        )
        try:
            upstreams = self.pool.for_base_model(event.base_model)
        except NoUpstream:
            logger.warning(
                "no upstream for %s; %s is routed but cannot load yet",
                event.base_model,
                event.serving_name,
            )
            return
        for upstream in upstreams:
            await self.adapters.ensure_loaded(target, upstream)

    async def on_registered(self, event: ModelRegistered) -> None:
        async with self.database.transaction() as session:
            await upsert_servable(session, event)
        self.changed()

    async def on_alias_moved(self, event: ModelDeployed | ModelRolledBack) -> None:
        await self.preload(event)
        async with self.database.transaction() as session:
            if not await claim_message(session, CONSUMER, event.id):
                return
            await upsert_servable(session, event)
            replaced = await point_route(
                session,
                event.tenant,
                event.model_name,
                event.alias,
                event.serving_name,
                event.alias_revision,
            )
            if self.bus is not None:
                add_to_outbox(session, self.bus, routed(event))
            retire = (
                replaced is not None
                and replaced != event.serving_name
                and not await still_used(session, event.tenant, replaced)
            )
        self.changed()
        if retire and replaced is not None:
            await self.retire(replaced)

    async def on_archived(self, event: ModelArchived) -> None:
        async with self.database.transaction() as session:
            servable = (
                await session.execute(
                    select(Servable).where(
                        col(Servable.tenant) == event.tenant,
                        col(Servable.serving_name) == event.serving_name,
                    )
                )
            ).scalar_one_or_none()
            if servable is not None:
                servable.archived = True
        self.changed()
        await self.retire(event.serving_name)

    async def retire(self, serving_name: str) -> None:
        await self.adapters.unload_after_drain(serving_name, self.pool.all())

    async def reconcile(self) -> None:
        """On start: everything an alias or a running experiment serves is loaded, and
        versions nothing serves any more (a retirement cut short) are unloaded."""
        async with self.database.session() as session:
            routed = set((await session.execute(select(Route.serving_name))).scalars())  # type: ignore[call-overload]
            running = (
                await session.execute(select(Experiment).where(col(Experiment.status) == "running"))
            ).scalars()
            routed |= {v["serving_name"] for e in running for v in e.variants}
            servables = (await session.execute(select(Servable))).scalars().all()
        for servable in servables:
            if servable.artifact_sha256 is None or servable.serving_name not in routed:
                continue
            await self._load_everywhere(servable)
        retired = {s.serving_name for s in servables if s.artifact_sha256} - routed
        await self._unload_leftovers(retired)

    async def _load_everywhere(self, servable: Servable) -> None:
        assert servable.artifact_sha256 is not None
        target = Target(
            serving_name=servable.serving_name,
            base_model=servable.base_model,
            artifact_sha256=servable.artifact_sha256,
        )
        try:
            for upstream in self.pool.for_base_model(servable.base_model):
                await self.adapters.ensure_loaded(target, upstream)
        except Exception:
            logger.exception("could not load %s at start-up", servable.serving_name)

    async def _unload_leftovers(self, retired: set[str]) -> None:
        for upstream in self.pool.all():
            try:
                leftovers = retired & await upstream.served_models()
                for serving_name in sorted(leftovers):
                    await upstream.unload_adapter(serving_name)
                    logger.info(
                        "unloaded %s from %s: nothing serves it", serving_name, upstream.base_url
                    )
            except Exception:
                logger.exception("could not tidy %s at start-up", upstream.base_url)


__all__ = ["Deployments"]
