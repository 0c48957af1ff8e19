"""The router service's definition: what it consumes, emits and serves."""

from faststream.nats import NatsRouter

from contracts.events import FeedbackRecorded, InferenceCompleted
from libs.runtime import ServiceContext, ServiceDefinition
from services.router.settings import RouterSettings


def build_router(context: ServiceContext) -> NatsRouter:
    """Message handlers of the router."""
    return NatsRouter()


DEFINITION = ServiceDefinition(
    name="router",
    settings=RouterSettings,
    build_router=build_router,
    emits=(
        InferenceCompleted,
        FeedbackRecorded,
    ),
)

__all__ = ["DEFINITION", "build_router"]
