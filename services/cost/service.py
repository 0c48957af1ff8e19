"""The cost service's definition: what it consumes, emits and serves."""

from fastapi import FastAPI
from faststream.nats import NatsRouter

from contracts.events import BudgetExceeded, BudgetThresholdReached, CostRecorded
from libs.runtime import ServiceContext, ServiceDefinition
from services.cost.api import create_api
from services.cost.costs import Costs
from services.cost.handlers import cost_handlers
from services.cost.settings import CostSettings


def costs_of(context: ServiceContext) -> Costs:
    settings = context.settings
    hardware = settings.serving_hardware if isinstance(settings, CostSettings) else "cpu"
    return Costs(
        context.database,
        context.bus,
        context.outbox,
        serving_hardware=hardware,
        artifacts=context.artifacts,
    )


def build_router(context: ServiceContext) -> NatsRouter:
    return cost_handlers(costs_of(context), context.bus.subjects)


def build_api(context: ServiceContext) -> FastAPI:
    return create_api(costs_of(context))


DEFINITION = ServiceDefinition(
    name="cost",
    settings=CostSettings,
    build_router=build_router,
    build_api=build_api,
    emits=(CostRecorded, BudgetThresholdReached, BudgetExceeded),
)

__all__ = ["DEFINITION", "build_api", "build_router"]
