"""The router's message handlers: registry events decide what it serves."""

from faststream.nats import NatsRouter

from contracts.events import (
    BudgetExceeded,
    ExperimentConcluded,
    ModelArchived,
    ModelDeployed,
    ModelRegistered,
    ModelRolledBack,
)
from libs.messaging import Subjects, event_subscriber
from services.router.budgets import BudgetGuard
from services.router.deployments import Deployments
from services.router.experiments import Experiments

SERVICE = "router"


def router_handlers(
    deployments: Deployments, experiments: Experiments, budgets: BudgetGuard, subjects: Subjects
) -> NatsRouter:
    router = NatsRouter()

    @event_subscriber(router, subjects, SERVICE, BudgetExceeded)
    async def on_budget_exceeded(event: BudgetExceeded) -> None:
        budgets.exceeded(event)

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

    @event_subscriber(router, subjects, SERVICE, ExperimentConcluded)
    async def on_concluded(event: ExperimentConcluded) -> None:
        await experiments.conclude(event.tenant, event.experiment_id, event.summary)

    return router


__all__ = ["router_handlers"]
