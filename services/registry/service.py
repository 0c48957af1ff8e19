"""The registry's definition: what it consumes, emits and serves."""

from fastapi import FastAPI
from faststream.nats import NatsRouter

from contracts.events import ModelArchived, ModelDeployed, ModelRegistered, ModelRolledBack
from libs.runtime import ServiceContext, ServiceDefinition
from services.registry.api import create_api
from services.registry.handlers import registry_handlers
from services.registry.registry import Registry
from services.registry.settings import RegistrySettings


def registry_of(context: ServiceContext) -> Registry:
    return Registry(context.database, context.bus, context.artifacts, context.outbox)


def build_router(context: ServiceContext) -> NatsRouter:
    return registry_handlers(registry_of(context), context.bus.subjects)


def build_api(context: ServiceContext) -> FastAPI:
    return create_api(registry_of(context))


DEFINITION = ServiceDefinition(
    name="registry",
    settings=RegistrySettings,
    build_router=build_router,
    build_api=build_api,
    emits=(ModelRegistered, ModelDeployed, ModelRolledBack, ModelArchived),
)

__all__ = ["DEFINITION", "build_api", "build_router"]
