"""The exporter service's definition: what it consumes, emits and serves."""

from faststream.nats import NatsRouter

from contracts.events import DatasetExported
from libs.runtime import ServiceContext, ServiceDefinition
from services.exporter.settings import ExporterSettings


def build_router(context: ServiceContext) -> NatsRouter:
    """Message handlers of the exporter."""
    return NatsRouter()


DEFINITION = ServiceDefinition(
    name="exporter",
    settings=ExporterSettings,
    build_router=build_router,
    emits=(DatasetExported,),
)

__all__ = ["DEFINITION", "build_router"]
