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
from contracts.commands import StartExperiment
from contracts.events import (
    ExperimentRamped,
    ExperimentStarted,
    ExperimentStartFailed,
    ExperimentStopped,
)
from contracts.events.experiments import (
    ExperimentArm,
    Guardrails,
    RecommendationWeights,
    StoppingPolicy,
)
from libs.messaging import Bus, add_to_outbox, claim_message
from libs.storage import Database
from services.router.tables import Experiment, Servable

START_FAILED_CONSUMER = "router:experiment.start_failed"


class ExperimentError(Exception):
    def __init__(self, message: str, status: int, code: str = "experiment_error") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def public(experiment: Experiment) -> ExperimentPublic:
    policy = experiment.policy
    return ExperimentPublic(
        id=experiment.id,
        tenant=experiment.tenant,
        name=experiment.name,
        model_name=experiment.model_name,
        status=experiment.status,
        stop_reason=experiment.stop_reason,
        variants=[
            VariantPublic(
                name=v["name"],
                serving_name=v["serving_name"],
                weight=v["weight"],
                is_control=v["is_control"],
            )
            for v in experiment.variants
        ],
        primary_metric=experiment.primary_metric,
        minimum_detectable_effect=experiment.minimum_detectable_effect,
        baseline=policy.get("baseline"),
        alpha=experiment.alpha,
        power=policy["power"],
        guardrails=Guardrails(**policy["guardrails"]),
        stopping=StoppingPolicy(**policy["stopping"]),
        weights=RecommendationWeights(**policy["weights"]),
        created_at=experiment.created_at,
    )


def arm(variant: dict[str, Any]) -> ExperimentArm:
    return ExperimentArm(
        variant=variant["name"],
        model_name=variant["model_name"],
        version=variant["version"],
        serving_name=variant["serving_name"],
        weight=variant["weight"],
    )


def control_and_treatments(experiment: Experiment) -> tuple[ExperimentArm, list[ExperimentArm]]:
    control = next(arm(v) for v in experiment.variants if v["is_control"])
    return control, [arm(v) for v in experiment.variants if not v["is_control"]]


def with_control_weight(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    treatments = sum(float(v["weight"]) for v in variants if not v["is_control"])
    return [{**v, "weight": round(1 - treatments, 6)} if v["is_control"] else v for v in variants]


class Experiments:
    def __init__(self, database: Database, bus: Bus, changed: Callable[[], None]) -> None:
        self.database = database
        self.bus = bus
        self.changed = changed

    async def _servables(self, tenant: str, names: list[str]) -> dict[str, Servable]:
        async with self.database.session() as session:
            rows = await session.execute(
                select(Servable).where(
                    col(Servable.tenant) == tenant, col(Servable.serving_name).in_(names)
                )
            )
            return {row.serving_name: row for row in rows.scalars()}

    async def create(
        self, tenant: str, request: ExperimentCreate, experiment_id: str | None = None
    ) -> ExperimentPublic:
        """Start an experiment; one already started under ``experiment_id`` is returned as is."""
        if experiment_id is not None:
            existing = await self.find(tenant, experiment_id)
            if existing is not None:
                return existing
        specs = [request.control, *request.treatments]
        known = await self._servables(tenant, [s.serving_name for s in specs])
        missing = {s.serving_name for s in specs} - set(known)
        if missing:
            raise ExperimentError(
                f"unknown serving name(s) {', '.join(sorted(missing))}; "
                "register those versions first",
                404,
                "unknown_serving_name",
            )
        variants = with_control_weight(
            [
                {
                    "name": s.name,
                    "serving_name": s.serving_name,
                    "weight": s.weight,
                    "is_control": s is request.control,
                    "model_name": known[s.serving_name].model_name,
                    "version": known[s.serving_name].version,
                }
                for s in specs
            ]
        )
        experiment = Experiment(
            id=experiment_id or f"exp_{uuid.uuid4().hex[:20]}",
            tenant=tenant,
            name=request.name,
            model_name=request.model_name,
            salt=secrets.token_hex(8),
            variants=variants,
            primary_metric=request.primary_metric,
            alpha=request.alpha,
            minimum_detectable_effect=request.minimum_detectable_effect,
            policy=request.model_dump(
                mode="json", include={"baseline", "power", "guardrails", "stopping", "weights"}
            ),
        )
        control, treatments = control_and_treatments(experiment)
        try:
            async with self.database.transaction() as session:
                if await self._running_for(session, tenant, request.model_name):
                    raise ExperimentError(
                        f"an experiment already splits {request.model_name!r}; stop it first",
                        409,
                        "experiment_running",
                    )
                session.add(experiment)
                await session.flush()
                add_to_outbox(
                    session,
                    self.bus,
                    ExperimentStarted(
                        tenant=tenant,
                        experiment_id=experiment.id,
                        control=control,
                        treatments=treatments,
                        primary_metric=request.primary_metric,
                        minimum_detectable_effect=request.minimum_detectable_effect,
                        baseline=request.baseline,
                        alpha=request.alpha,
                        power=request.power,
                        guardrails=request.guardrails,
                        stopping=request.stopping,
                        weights=request.weights,
                    ),
                )
        except IntegrityError:
            if experiment_id is not None and (found := await self.find(tenant, experiment_id)):
                return found  # the same command, delivered twice at once
            raise ExperimentError(
                f"an experiment named {request.name!r} exists", 409, "conflict"
            ) from None
        self.changed()
        return public(experiment)

    async def find(self, tenant: str, experiment_id: str) -> ExperimentPublic | None:
        async with self.database.session() as session:
            experiment = await session.get(Experiment, experiment_id)
        if experiment is None or experiment.tenant != tenant:
            return None
        return public(experiment)

    async def start_by_command(self, command: StartExperiment) -> None:
        """``experiment.start``: a refusal is told with ``experiment.start_failed``, once."""
        try:
            await self.create(command.tenant, command.definition, command.experiment_id)
        except ExperimentError as exc:
            async with self.database.transaction() as session:
                if not await claim_message(session, START_FAILED_CONSUMER, command.experiment_id):
                    return
                add_to_outbox(
                    session,
                    self.bus,
                    ExperimentStartFailed(
                        tenant=command.tenant,
                        experiment_id=command.experiment_id,
                        model_name=command.definition.model_name,
                        code=exc.code,
                        message=exc.message,
                    ),
                )
            self.changed()

    async def servable(self, tenant: str, serving_names: list[str]) -> list[str]:
        """Which of these serving names the router knows (registered and not archived)."""
        known = await self._servables(tenant, serving_names)
        return [name for name in serving_names if name in known and not known[name].archived]

    @staticmethod
    async def _running_for(session: AsyncSession, tenant: str, model_name: str) -> bool:
        running = (
            await session.execute(
                select(Experiment.id).where(  # type: ignore[call-overload]
                    col(Experiment.tenant) == tenant,
                    col(Experiment.model_name) == model_name,
                    col(Experiment.status) == "running",
                )
            )
        ).first()
        return running is not None

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
            variants = with_control_weight(
                [
                    {**v, "weight": request.weight} if v["name"] == request.variant else v
                    for v in experiment.variants
                ]
            )
            if next(v for v in variants if v["is_control"])["weight"] <= 0:
                raise ExperimentError("the control must keep some traffic", 422)
            experiment.variants = variants
            control, arms = control_and_treatments(experiment)
            add_to_outbox(
                session,
                self.bus,
                ExperimentRamped(
                    tenant=tenant, experiment_id=experiment.id, control=control, treatments=arms
                ),
            )
        self.changed()
        return public(experiment)

    async def stop(self, tenant: str, experiment_id: str, reason: str) -> ExperimentPublic:
        async with self.database.transaction() as session:
            experiment = await self._running(session, tenant, experiment_id)
            experiment.status = "stopped"
            experiment.stop_reason = reason
            add_to_outbox(
                session,
                self.bus,
                ExperimentStopped(tenant=tenant, experiment_id=experiment.id, reason=reason),
            )
        self.changed()
        return public(experiment)

    async def conclude(self, tenant: str, experiment_id: str, summary: str) -> None:
        """The evaluator decided: stop splitting (a winner is promoted through the registry)."""
        try:
            await self.stop(tenant, experiment_id, f"concluded: {summary}")
        except ExperimentError as exc:
            if exc.status != 409:  # already stopped: nothing to do
                raise

    async def list(self, tenant: str) -> list[ExperimentPublic]:
        async with self.database.session() as session:
            rows = await session.execute(
                select(Experiment)
                .where(col(Experiment.tenant) == tenant)
                .order_by(col(Experiment.created_at))
            )
            return [public(e) for e in rows.scalars()]


__all__ = ["ExperimentError", "Experiments"]
