"""The retrainer's definition: one :class:`Retrainer` per process, shared by its handlers,
its API and its clock."""

from fastapi import FastAPI
from faststream.nats import NatsRouter

from contracts.events import (
    RetrainingCompleted,
    RetrainingPolicyChanged,
    RetrainingTriggered,
    RetrainingUpdated,
)
from libs.background import BackgroundLoop
from libs.runtime import ServiceContext, ServiceDefinition, shared_part
from services.retrainer.api import create_api
from services.retrainer.handlers import retrainer_handlers
from services.retrainer.questions import BusQuestions
from services.retrainer.retrainer import Retrainer
from services.retrainer.settings import RetrainerSettings


def retrainer_of(context: ServiceContext) -> Retrainer:
    """The process's one :class:`Retrainer` (the handlers and the API share it)."""
    return shared_part(context, "retrainer", lambda: new_retrainer(context))


def new_retrainer(context: ServiceContext) -> Retrainer:
    settings = context.settings
    if not isinstance(settings, RetrainerSettings):
        settings = RetrainerSettings.model_validate(settings.model_dump())
    retrainer = Retrainer(
        context.database,
        context.bus,
        context.outbox,
        BusQuestions(context.bus, settings.query_timeout_seconds),
        settings.stage_limits(),
        settings.count_seconds,
    )
    clock = BackgroundLoop("retrainer-clock", retrainer.tick, settings.tick_seconds)
    retrainer.wake = clock.wake

    async def start_clock() -> None:
        clock.start()

    context.startup_hooks.append(start_clock)
    context.shutdown_hooks.append(clock.stop)
    return retrainer


def build_router(context: ServiceContext) -> NatsRouter:
    return retrainer_handlers(retrainer_of(context), context.bus.subjects)


def build_api(context: ServiceContext) -> FastAPI:
    return create_api(retrainer_of(context))


DEFINITION = ServiceDefinition(
    name="retrainer",
    settings=RetrainerSettings,
    build_router=build_router,
    build_api=build_api,
    emits=(RetrainingTriggered, RetrainingUpdated, RetrainingCompleted, RetrainingPolicyChanged),
)

__all__ = ["DEFINITION", "build_api", "build_router", "retrainer_of"]
