"""The gateway's definition."""

from faststream.nats import NatsRouter

from libs.runtime import ServiceContext, ServiceDefinition
from services.gateway.api import build_api
from services.gateway.settings import GatewaySettings


def build_router(context: ServiceContext) -> NatsRouter:
    """The gateway consumes no events; it queries services and sends commands."""
    return NatsRouter()


DEFINITION = ServiceDefinition(
    name="gateway",
    settings=GatewaySettings,
    build_router=build_router,
    build_api=build_api,
)

__all__ = ["DEFINITION"]
