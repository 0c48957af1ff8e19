"""The cost service's message handlers: thin, each calls :class:`Costs`."""

from faststream.nats import NatsRouter

from contracts.events import (
    InferenceCompleted,
    JobCancelled,
    JobCompleted,
    JobCreated,
    JobFailed,
    JobStarted,
    ModelRegistered,
)
from contracts.queries import (
    BudgetCheckQuery,
    BudgetCheckReply,
    JobEstimateQuery,
    JobEstimateReply,
)
from libs.messaging import Subjects, event_subscriber, query_subscriber
from services.cost.costs import Costs

SERVICE = "cost"


def cost_handlers(costs: Costs, subjects: Subjects) -> NatsRouter:
    router = NatsRouter()

    @event_subscriber(router, subjects, SERVICE, JobCreated)
    async def on_job_created(event: JobCreated) -> None:
        await costs.job_created(event)

    @event_subscriber(router, subjects, SERVICE, JobStarted)
    async def on_job_started(event: JobStarted) -> None:
        await costs.job_started(event)

    @event_subscriber(router, subjects, SERVICE, JobCompleted)
    async def on_job_completed(event: JobCompleted) -> None:
        await costs.job_completed(event)

    @event_subscriber(router, subjects, SERVICE, JobFailed)
    async def on_job_failed(event: JobFailed) -> None:
        await costs.job_ended(event)

    @event_subscriber(router, subjects, SERVICE, JobCancelled)
    async def on_job_cancelled(event: JobCancelled) -> None:
        await costs.job_ended(event)

    @event_subscriber(router, subjects, SERVICE, ModelRegistered)
    async def on_model_registered(event: ModelRegistered) -> None:
        await costs.model_registered(event)

    @event_subscriber(router, subjects, SERVICE, InferenceCompleted)
    async def on_inference_completed(event: InferenceCompleted) -> None:
        await costs.inference_completed(event)

    @query_subscriber(router, subjects, SERVICE, BudgetCheckQuery.message_type())
    async def on_budget_check(query: BudgetCheckQuery) -> BudgetCheckReply:
        return await costs.check_budget(query.tenant, query.kind, query.estimated_usd, query.job_id)

    @query_subscriber(router, subjects, SERVICE, JobEstimateQuery.message_type())
    async def on_estimate_job(query: JobEstimateQuery) -> JobEstimateReply:
        return await costs.estimate_job(query.tenant, query.request)

    return router


__all__ = ["cost_handlers"]
