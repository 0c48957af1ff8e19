"""The router's message handlers: registry events decide what it serves; experiments can be
started by command, other services ask which versions it can serve, and a revoked API key is
forgotten by every replica at once."""

from faststream.nats import NatsRouter

from contracts.commands import StartExperiment
from contracts.events import (
    ApiKeyRevoked,
    BudgetExceeded,
    ExperimentConcluded,
    ModelArchived,
    ModelDeployed,
    ModelRegistered,
    ModelRolledBack,
)
from contracts.queries import ServableQuery, ServableReply
from libs.messaging import (
    Subjects,
    broadcast_subscriber,
    command_subscriber,
    event_subscriber,
    query_subscriber,
)
from services.router.access import KeyChecker
from services.router.budgets import BudgetGuard
from services.router.deployments import Deployments
from services.router.experiments import Experiments

SERVICE = "router"


def router_handlers(
    deployments: Deployments,
    experiments: Experiments,
    budgets: BudgetGuard,
    keys: KeyChecker,
    subjects: Subjects,
) -> NatsRouter:
    router = NatsRouter()

    @broadcast_subscriber(router, subjects, SERVICE, ApiKeyRevoked)
    async def on_key_revoked(event: ApiKeyRevoked) -> None:
        keys.forget(event.key_id)

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

    @command_subscriber(router, subjects, StartExperiment)
    async def on_start_experiment(command: StartExperiment) -> None:
        await experiments.start_by_command(command)

    @query_subscriber(router, subjects, SERVICE, ServableQuery.message_type())
    async def on_servable(query: ServableQuery) -> ServableReply:
        servable = await experiments.servable(query.tenant, query.serving_names)
        return ServableReply(servable=servable)

    return router


__all__ = ["router_handlers"]
