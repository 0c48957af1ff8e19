"""The registry service's definition: what it consumes, emits and serves."""

from faststream.nats import NatsRouter

from contracts.events import ModelArchived, ModelDeployed, ModelRegistered, ModelRolledBack
from libs.runtime import ServiceContext, ServiceDefinition
from services.registry.settings import RegistrySettings


def build_router(context: ServiceContext) -> NatsRouter:
    """Message handlers of the registry."""
    return NatsRouter()


DEFINITION = ServiceDefinition(
    name="registry",
    settings=RegistrySettings,
    build_router=build_router,
    emits=(
        ModelRegistered,
        ModelDeployed,
        ModelRolledBack,
        ModelArchived,
    ),
)

__all__ = ["DEFINITION", "build_router"]
