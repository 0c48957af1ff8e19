"""Experiments: created, ramped and stopped here; every change is an event."""

import secrets
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.router import ExperimentCreate, ExperimentPublic, RampRequest, VariantPublic
from contracts.events import ExperimentRamped, ExperimentStarted, ExperimentStopped
from contracts.events.experiments import ExperimentVariant
from libs.messaging import Bus, add_to_outbox
from libs.storage import Database
from services.router.tables import Experiment, Servable


class ExperimentError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def public(experiment: Experiment) -> ExperimentPublic:
    return ExperimentPublic(
        id=experiment.id,
        tenant=experiment.tenant,
        name=experiment.name,
        model_name=experiment.model_name,
        status=experiment.status,
        variants=[VariantPublic(**v) for v in experiment.variants],
        primary_metric=experiment.primary_metric,
        alpha=experiment.alpha,
        minimum_detectable_effect=experiment.minimum_detectable_effect,
        guardrails=experiment.guardrails,
        created_at=experiment.created_at,
    )


def event_variants(experiment: Experiment) -> list[ExperimentVariant]:
    return [ExperimentVariant(**v) for v in experiment.variants]


def with_control_weight(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    treatments = sum(float(v["weight"]) for v in variants if not v["is_control"])
    return [{**v, "weight": round(1 - treatments, 6)} if v["is_control"] else v for v in variants]


class Experiments:
    def __init__(self, database: Database, bus: Bus, changed: Callable[[], None]) -> None:
        self.database = database
        self.bus = bus
        self.changed = changed

    async def _known_serving_names(self, tenant: str, names: list[str]) -> set[str]:
        async with self.database.session() as session:
            rows = await session.execute(
                select(col(Servable.serving_name)).where(
                    col(Servable.tenant) == tenant, col(Servable.serving_name).in_(names)
                )
            )
            return set(rows.scalars())

    async def create(self, tenant: str, request: ExperimentCreate) -> ExperimentPublic:
        specs = [request.control, *request.treatments]
        missing = {s.serving_name for s in specs} - await self._known_serving_names(
            tenant, [s.serving_name for s in specs]
        )
        if missing:
            raise ExperimentError(
                f"unknown serving name(s) {', '.join(sorted(missing))}; "
                "register and deploy those versions first",
                404,
            )
        variants = with_control_weight(
            [
                {
                    "name": s.name,
                    "serving_name": s.serving_name,
                    "weight": s.weight,
                    "is_control": s is request.control,
                }
                for s in specs
            ]
        )
        experiment = Experiment(
            id=f"exp_{uuid.uuid4().hex[:20]}",
            tenant=tenant,
            name=request.name,
            model_name=request.model_name,
            salt=secrets.token_hex(8),
            variants=variants,
            primary_metric=request.primary_metric,
            alpha=request.alpha,
            minimum_detectable_effect=request.minimum_detectable_effect,
            guardrails=request.guardrails,
        )
        try:
            async with self.database.transaction() as session:
                running = (
                    await session.execute(
                        select(Experiment).where(
                            col(Experiment.tenant) == tenant,
                            col(Experiment.model_name) == request.model_name,
                            col(Experiment.status) == "running",
                        )
                    )
                ).first()
                if running:
                    raise ExperimentError(
                        f"an experiment already splits {request.model_name!r}; stop it first", 409
                    )
                session.add(experiment)
                await session.flush()
                add_to_outbox(
                    session,
                    self.bus,
                    ExperimentStarted(
                        tenant=tenant,
                        experiment_id=experiment.id,
                        name=experiment.name,
                        model_name=experiment.model_name,
                        variants=event_variants(experiment),
                        primary_metric=request.primary_metric,
                        alpha=request.alpha,
                        minimum_detectable_effect=request.minimum_detectable_effect,
                        guardrails=request.guardrails,
                    ),
                )
        except IntegrityError:
            raise ExperimentError(f"an experiment named {request.name!r} exists", 409) from None
        self._changed()
        return public(experiment)

    async def _running(self, session: AsyncSession, tenant: str, experiment_id: str) -> Experiment:
        experiment = await session.get(Experiment, experiment_id)
        if experiment is None or experiment.tenant != tenant:
            raise ExperimentError(f"no experiment {experiment_id!r}", 404)
        if experiment.status != "running":
            raise ExperimentError(f"experiment {experiment_id!r} is {experiment.status}", 409)
        return experiment

    async def ramp(self, tenant: str, experiment_id: str, request: RampRequest) -> ExperimentPublic:
        async with self.database.transaction() as session:
            experiment = await self._running(session, tenant, experiment_id)
            treatments = [v for v in experiment.variants if not v["is_control"]]
            if request.variant not in {v["name"] for v in treatments}:
                raise ExperimentError(
                    f"{request.variant!r} is not a treatment of {experiment_id!r}", 422
                )
            if request.weight > 1 / len(treatments):
                raise ExperimentError(
                    f"each treatment can take at most {1 / len(treatments):.2f} of the traffic", 422
                )
            experiment.variants = with_control_weight(
                [
                    {**v, "weight": request.weight} if v["name"] == request.variant else v
                    for v in experiment.variants
                ]
            )
            add_to_outbox(
                session,
                self.bus,
                ExperimentRamped(
                    tenant=tenant, experiment_id=experiment.id, variants=event_variants(experiment)
                ),
            )
        self._changed()
        return public(experiment)

    async def stop(self, tenant: str, experiment_id: str, reason: str) -> ExperimentPublic:
        async with self.database.transaction() as session:
            experiment = await self._running(session, tenant, experiment_id)
            experiment.status = "stopped"
            add_to_outbox(
                session,
                self.bus,
                ExperimentStopped(tenant=tenant, experiment_id=experiment.id, reason=reason),
            )
        self._changed()
        return public(experiment)

    async def list(self, tenant: str) -> list[ExperimentPublic]:
        async with self.database.session() as session:
            rows = await session.execute(
                select(Experiment)
                .where(col(Experiment.tenant) == tenant)
                .order_by(col(Experiment.created_at))
            )
            return [public(e) for e in rows.scalars()]

    def _changed(self) -> None:
        self.changed()


__all__ = ["ExperimentError", "Experiments"]
