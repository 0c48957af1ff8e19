"""The trainer service's definition: what it consumes, emits and serves."""

from faststream.nats import NatsRouter

from contracts.events import (
    JobCancelled,
    JobCheckpointed,
    JobCompleted,
    JobCreated,
    JobFailed,
    JobProgressed,
    JobStarted,
)
from libs.runtime import ServiceContext, ServiceDefinition
from services.trainer.settings import TrainerSettings


def build_router(context: ServiceContext) -> NatsRouter:
    """Message handlers of the trainer."""
    return NatsRouter()


DEFINITION = ServiceDefinition(
    name="trainer",
    settings=TrainerSettings,
    build_router=build_router,
    emits=(
        JobCreated,
        JobStarted,
        JobProgressed,
        JobCheckpointed,
        JobCompleted,
        JobFailed,
        JobCancelled,
    ),
)

__all__ = ["DEFINITION", "build_router"]
