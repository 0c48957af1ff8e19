"""Before a job is queued the trainer asks the cost service for an estimate and a budget check."""

from decimal import Decimal
from pathlib import Path

import pytest
from faststream.nats import NatsRouter

from contracts.api.cost import BudgetCreate
from contracts.commands import CreateJob
from contracts.events import JobEstimated, JobFailed, JobQueued
from contracts.training import Hyperparameters
from libs.messaging import OutboxRelay, Subjects
from libs.storage import Database
from services.cost.costs import Costs
from services.cost.handlers import cost_handlers
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.trainer_harness import EventLog, running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.ticket_task import jsonl, split

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def cost_router(costs: Costs, subjects: Subjects, log: EventLog) -> NatsRouter:
    router = NatsRouter()
    router.include_router(cost_handlers(costs, subjects))
    router.include_router(log.router(subjects))
    return router


async def test_jobs_are_estimated_with_the_real_tokenizer_and_refused_over_budget(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    log = EventLog()
    settings = trainer_settings(tmp_path, nats_url, subjects)
    database_url = settings.resolved_database_url()
    async with running_trainer(settings) as service:
        costs = Costs(
            Database(database_url),
            service.context.bus,
            OutboxRelay(Database(database_url), service.context.bus),
            artifacts=service.context.artifacts,
        )
        async with running_bus(nats_url, subjects, cost_router(costs, subjects, log)) as bus:
            costs.bus = bus
            rows, _ = split(40, 0, seed=3)
            training_file = await service.context.artifacts.put_bytes(jsonl(rows))
            hyperparameters = Hyperparameters(n_epochs=2, max_steps=2, batch_size=8)

            def command(tenant: str) -> CreateJob:
                return CreateJob(
                    job_id=unique_name("estimated-"),
                    tenant=tenant,
                    base_model=str(tiny_model_dir),
                    training_file=training_file.sha256,
                    hyperparameters=hyperparameters,
                )

            within = command(unique_name("roomy-"))
            await bus.send_command(within)
            await eventually(lambda: bool(log.of(within.job_id, JobQueued)), what="the job queued")
            [estimated] = log.of(within.job_id, JobEstimated)
            assert estimated.hardware == "cpu"
            assert estimated.epochs == 2
            assert estimated.trained_tokens > 0
            assert estimated.cost_usd > 0
            assert estimated.basis == "prior"

            tight_tenant = unique_name("tight-")
            await costs.create_budget(
                tight_tenant,
                BudgetCreate(scope="tenant", period="month", limit_usd=Decimal("0.000001")),
            )
            refused = command(tight_tenant)
            await bus.send_command(refused)
            await eventually(
                lambda: bool(log.of(refused.job_id, JobFailed)), what="the job refused"
            )
            [failed] = log.of(refused.job_id, JobFailed)
            assert failed.error.code == "budget_exceeded"
            assert "POST /v1/budgets" in failed.error.message
            assert not log.of(refused.job_id, JobQueued)
        await costs.database.dispose()
