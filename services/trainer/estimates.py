"""Before a job is queued: ask the cost service what it will cost and whether a budget allows it.

The estimate counts trained tokens with the base model's real tokenizer (when the model is in
the local cache) and prices them with the tenant's price table. A budget that the estimate
would break rejects the job with ``budget_exceeded``. When the cost service does not answer,
the job goes on without an estimate: budgets guard spending, they do not stop training when
the cost service is down (the warning says so).
"""

import logging
from dataclasses import dataclass
from pathlib import Path

from contracts.api.cost import Estimate, EstimateRequest
from contracts.commands import CreateJob
from contracts.events.jobs import JobEstimated
from contracts.queries import (
    BudgetCheckQuery,
    BudgetCheckReply,
    JobEstimateQuery,
    JobEstimateReply,
)
from libs.models.registry import cached_base_model, model_context_length
from libs.runtime import ServiceContext
from services.trainer.settings import TrainerSettings

logger = logging.getLogger("tuneloop.trainer.estimates")
DEFAULT_EPOCHS = 3
DEFAULT_CONTEXT = 2048


class BudgetRefused(Exception):
    """A budget of the tenant would be exceeded by this job."""


@dataclass(frozen=True)
class JobCostCheck:
    estimated: JobEstimated | None


def estimate_request(
    command: CreateJob, settings: TrainerSettings, model_dir: Path
) -> EstimateRequest:
    hp = command.hyperparameters
    epochs = DEFAULT_EPOCHS if hp.n_epochs == "auto" else hp.n_epochs
    context = model_context_length(model_dir) or DEFAULT_CONTEXT
    if hp.max_seq_length != "auto":
        context = min(context, hp.max_seq_length)
    return EstimateRequest(
        model=command.base_model,
        dataset_sha256=command.training_file,
        tokenizer=str(model_dir),
        context_length=context,
        epochs=epochs,
        hardware=[settings.hardware],
    )


def estimated_event(command: CreateJob, estimate: Estimate) -> JobEstimated | None:
    if not estimate.hardware:
        return None
    hardware = estimate.hardware[0]
    return JobEstimated(
        job_id=command.job_id,
        tenant=command.tenant,
        trained_tokens=estimate.trained_tokens,
        epochs=estimate.epochs,
        hardware=hardware.hardware,
        wall_seconds=hardware.wall_seconds,
        cost_usd=hardware.cost_usd,
        basis=hardware.basis,
        price_version=estimate.price_version,
    )


async def ask_estimate(
    context: ServiceContext, settings: TrainerSettings, command: CreateJob
) -> JobEstimated | None:
    model_dir = cached_base_model(command.base_model, settings.resolved_models_dir())
    if model_dir is None or command.backend == "openai":
        return None
    query = JobEstimateQuery(
        tenant=command.tenant,
        job_id=command.job_id,
        request=estimate_request(command, settings, model_dir),
    )
    try:
        reply = await context.bus.ask(
            query,
            "cost",
            query.type,
            JobEstimateReply,
            timeout=settings.estimate_timeout_seconds,
        )
    except Exception as exc:
        logger.warning(
            "job %s: no cost estimate (the cost service did not answer: %s); queueing it "
            "without a budget check",
            command.job_id,
            type(exc).__name__,
        )
        return None
    if reply.estimate is None:
        logger.warning("job %s: no cost estimate: %s", command.job_id, reply.error)
        return None
    return estimated_event(command, reply.estimate)


async def check_budget(
    context: ServiceContext,
    settings: TrainerSettings,
    command: CreateJob,
    estimated: JobEstimated | None,
) -> None:
    """Raise :class:`BudgetRefused` when a budget of the tenant would be exceeded."""
    query = BudgetCheckQuery(
        tenant=command.tenant,
        kind="job",
        estimated_usd=estimated.cost_usd if estimated else 0,
        job_id=command.job_id,
    )
    try:
        reply = await context.bus.ask(
            query, "cost", query.type, BudgetCheckReply, timeout=settings.estimate_timeout_seconds
        )
    except Exception as exc:
        logger.warning(
            "job %s: budgets not checked (the cost service did not answer: %s)",
            command.job_id,
            type(exc).__name__,
        )
        return
    if not reply.allowed:
        raise BudgetRefused(
            f"{reply.message} Raise the budget (POST /v1/budgets) or wait for its period to "
            "end, then create the job again."
        )


async def estimate_and_check(
    context: ServiceContext, settings: TrainerSettings, command: CreateJob
) -> JobCostCheck:
    estimated = await ask_estimate(context, settings, command)
    await check_budget(context, settings, command, estimated)
    return JobCostCheck(estimated)


__all__ = ["BudgetRefused", "JobCostCheck", "estimate_and_check", "estimate_request"]
