"""What a ``model`` field means: an experiment, an alias, an exact version or a base model.

Each replica keeps a snapshot of the router's tables, never older than a second, so a deploy
handled by one replica reaches every replica within about a second. Requests do not wait for
the reload under steady traffic: once a snapshot is three quarters of that age, the request
that notices starts a reload in the background and goes on with the current one. Only a
snapshot that has expired (no traffic meanwhile) or was invalidated (this replica changed the
tables) is reloaded before answering.
"""

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlmodel import col

from libs.storage import Database
from services.router.assignment import Variant, assign
from services.router.tables import Experiment, Route, Servable

logger = logging.getLogger("tuneloop.router.catalog")

SNAPSHOT_SECONDS = 1.0
REFRESH_AFTER_SECONDS = SNAPSHOT_SECONDS * 0.75
"""A reload takes milliseconds; starting it a quarter second early keeps requests from
ever waiting for one under steady traffic, at about one reload a second."""
DEFAULT_ALIAS = "production"


class UnknownModel(Exception):
    pass


@dataclass(frozen=True)
class Target:
    serving_name: str
    base_model: str
    artifact_sha256: str | None = None
    external_model_id: str | None = None
    experiment_id: str | None = None
    variant: str | None = None
    unit_bucket: int | None = None
    control: "Target | None" = None


@dataclass
class Snapshot:
    servables: dict[tuple[str, str], Servable] = field(default_factory=dict)
    routes: dict[tuple[str, str, str], Route] = field(default_factory=dict)
    experiments: dict[tuple[str, str], Experiment] = field(default_factory=dict)
    base_models: set[str] = field(default_factory=set)
    loaded_at: float = 0.0


def variants_of(experiment: Experiment) -> list[Variant]:
    return [
        Variant(v["name"], v["serving_name"], float(v["weight"]), bool(v["is_control"]))
        for v in experiment.variants
    ]


class Catalog:
    def __init__(self, database: Database, configured_base_models: set[str]) -> None:
        self.database = database
        self.configured_base_models = configured_base_models
        self._snapshot = Snapshot()
        self._lock = asyncio.Lock()
        self._generation = 0
        self._refreshing: asyncio.Task[None] | None = None

    async def snapshot(self) -> Snapshot:
        age = time.monotonic() - self._snapshot.loaded_at
        if age < REFRESH_AFTER_SECONDS:
            return self._snapshot
        if age < SNAPSHOT_SECONDS:
            if self._refreshing is None:
                self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
            return self._snapshot
        async with self._lock:
            for attempt in range(3):  # a load that an invalidation overtook is read again
                if time.monotonic() - self._snapshot.loaded_at < SNAPSHOT_SECONDS:
                    break
                await self._reload(keep_anyway=attempt == 2)
        return self._snapshot

    async def _refresh(self) -> None:
        try:
            async with self._lock:
                if time.monotonic() - self._snapshot.loaded_at >= REFRESH_AFTER_SECONDS:
                    await self._reload()
        except Exception:
            logger.exception("the catalog could not be reloaded; retrying on the next request")
        finally:
            self._refreshing = None

    async def _reload(self, keep_anyway: bool = False) -> None:
        generation = self._generation
        snapshot = await self._load()
        if keep_anyway or generation == self._generation:  # else it may predate a change
            self._snapshot = snapshot

    def invalidate(self) -> None:
        """The tables changed here: the next request reads them again before answering."""
        self._generation += 1
        self._snapshot = Snapshot()

    async def _load(self) -> Snapshot:
        async with self.database.session() as session:
            servables = (await session.execute(select(Servable))).scalars().all()
            routes = (await session.execute(select(Route))).scalars().all()
            running = (
                (
                    await session.execute(
                        select(Experiment).where(col(Experiment.status) == "running")
                    )
                )
                .scalars()
                .all()
            )
        return Snapshot(
            servables={(s.tenant, s.serving_name): s for s in servables},
            routes={(r.tenant, r.model_name, r.alias): r for r in routes},
            experiments={(e.tenant, e.model_name): e for e in running},
            base_models={s.base_model for s in servables} | self.configured_base_models,
            loaded_at=time.monotonic(),
        )

    async def resolve(self, tenant: str, model: str, unit: str) -> Target:
        snapshot = await self.snapshot()
        experiment = snapshot.experiments.get((tenant, model))
        if experiment is not None:
            return self._experiment_target(snapshot, tenant, experiment, unit)
        name, _, alias = model.partition(":")
        route = snapshot.routes.get((tenant, name, alias or DEFAULT_ALIAS))
        if route is not None:
            return self._servable_target(snapshot, tenant, route.serving_name)
        if (tenant, model) in snapshot.servables:
            return self._servable_target(snapshot, tenant, model)
        if model in snapshot.base_models:
            return Target(serving_name=model, base_model=model)
        raise UnknownModel(
            f"The model `{model}` does not exist or you do not have access to "
            "it. Use a model name, `model:alias`, a version's serving name or an "
            "experiment's model name (GET /v1/models lists them)."
        )

    def _servable_target(self, snapshot: Snapshot, tenant: str, serving_name: str) -> Target:
        servable = snapshot.servables.get((tenant, serving_name))
        if servable is None:
            raise UnknownModel(f"The model `{serving_name}` is not deployed for this tenant.")
        return Target(
            serving_name=servable.serving_name,
            base_model=servable.base_model,
            artifact_sha256=servable.artifact_sha256,
            external_model_id=servable.external_model_id,
        )

    def _experiment_target(
        self, snapshot: Snapshot, tenant: str, experiment: Experiment, unit: str
    ) -> Target:
        variants = variants_of(experiment)
        chosen, bucket = assign(experiment.salt, unit, variants)
        control = next(v for v in variants if v.is_control)
        control_target = replace(
            self._servable_target(snapshot, tenant, control.serving_name),
            experiment_id=experiment.id,
            variant=control.name,
            unit_bucket=bucket,
        )
        if chosen.is_control:
            return control_target
        return replace(
            self._servable_target(snapshot, tenant, chosen.serving_name),
            experiment_id=experiment.id,
            variant=chosen.name,
            unit_bucket=bucket,
            control=control_target,
        )

    async def version(self, tenant: str, serving_name: str) -> Servable | None:
        """The tenant's servable version named exactly ``serving_name``, if not archived."""
        servable = (await self.snapshot()).servables.get((tenant, serving_name))
        return servable if servable is not None and not servable.archived else None

    async def users_of(self, tenant: str, serving_name: str) -> list[str]:
        """The aliases and running experiments that send traffic to ``serving_name``."""
        snapshot = await self.snapshot()
        aliases = [
            f"{r.model_name}:{r.alias}"
            for (t, _, _), r in snapshot.routes.items()
            if t == tenant and r.serving_name == serving_name
        ]
        experiments = [
            f"experiment {e.name}"
            for (t, _), e in snapshot.experiments.items()
            if t == tenant and any(v.serving_name == serving_name for v in variants_of(e))
        ]
        return aliases + experiments

    async def visible_models(self, tenant: str) -> list[str]:
        snapshot = await self.snapshot()
        names = {
            f"{r.model_name}:{r.alias}" for (t, _, _), r in snapshot.routes.items() if t == tenant
        }
        names |= {
            r.model_name
            for (t, _, alias), r in snapshot.routes.items()
            if t == tenant and alias == DEFAULT_ALIAS
        }
        names |= {name for (t, name) in snapshot.experiments if t == tenant}
        names |= self.configured_base_models
        names |= {
            s.serving_name
            for (t, _), s in snapshot.servables.items()
            if t == tenant and not s.archived
        }
        return sorted(names)


__all__ = ["Catalog", "Target", "UnknownModel"]
