"""The trainer service's definition: what it consumes, emits and serves."""

from faststream.nats import NatsRouter

from contracts.events import (
    JobCancelled,
    JobCheckpointed,
    JobCompleted,
    JobCreated,
    JobEstimated,
    JobFailed,
    JobProgressed,
    JobQueued,
    JobStarted,
)
from libs.runtime import ServiceContext, ServiceDefinition
from services.trainer.api import build_api
from services.trainer.datasets import dataset_router
from services.trainer.handlers import job_router
from services.trainer.settings import TrainerSettings
from services.trainer.worker import Worker


def trainer_settings(context: ServiceContext) -> TrainerSettings:
    settings = context.settings
    if isinstance(settings, TrainerSettings):
        return settings
    return TrainerSettings.model_validate(settings.model_dump())


def build_router(context: ServiceContext) -> NatsRouter:
    """Job commands, and the worker that runs jobs while the service is up."""
    worker = Worker(context, trainer_settings(context))
    context.startup_hooks.append(worker.start)
    context.shutdown_hooks.append(worker.stop)
    router = job_router(context, worker)
    router.include_router(dataset_router(context, worker))
    return router


DEFINITION = ServiceDefinition(
    name="trainer",
    settings=TrainerSettings,
    build_router=build_router,
    build_api=build_api,
    emits=(
        JobCreated,
        JobEstimated,
        JobQueued,
        JobStarted,
        JobProgressed,
        JobCheckpointed,
        JobCompleted,
        JobFailed,
        JobCancelled,
    ),
)

__all__ = ["DEFINITION", "build_router"]
