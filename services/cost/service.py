"""The cost service's definition: what it consumes, emits and serves."""

from faststream.nats import NatsRouter

from contracts.events import BudgetExceeded, CostRecorded
from libs.runtime import ServiceContext, ServiceDefinition
from services.cost.settings import CostSettings


def build_router(context: ServiceContext) -> NatsRouter:
    """Message handlers of the cost."""
    return NatsRouter()


DEFINITION = ServiceDefinition(
    name="cost",
    settings=CostSettings,
    build_router=build_router,
    emits=(
        CostRecorded,
        BudgetExceeded,
    ),
)

__all__ = ["DEFINITION", "build_router"]
