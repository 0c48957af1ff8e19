"""The router's message handlers: registry events decide what it serves."""

from faststream.nats import NatsRouter

from contracts.events import ModelArchived, ModelDeployed, ModelRegistered, ModelRolledBack
from libs.messaging import Subjects, event_subscriber
from services.router.deployments import Deployments

SERVICE = "router"


def router_handlers(deployments: Deployments, subjects: Subjects) -> NatsRouter:
    router = NatsRouter()

    @event_subscriber(router, subjects, SERVICE, ModelRegistered)
    async def on_registered(event: ModelRegistered) -> None:
        await deployments.on_registered(event)

    @event_subscriber(router, subjects, SERVICE, ModelDeployed)
    async def on_deployed(event: ModelDeployed) -> None:
        await deployments.on_alias_moved(event)

    @event_subscriber(router, subjects, SERVICE, ModelRolledBack)
    async def on_rolled_back(event: ModelRolledBack) -> None:
        await deployments.on_alias_moved(event)

    @event_subscriber(router, subjects, SERVICE, ModelArchived)
    async def on_archived(event: ModelArchived) -> None:
        await deployments.on_archived(event)

    return router


__all__ = ["router_handlers"]
