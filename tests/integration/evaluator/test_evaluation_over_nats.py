"""An offline evaluation over real NATS: progress events, and metrics on the registry's versions."""

from pathlib import Path

import pytest
from faststream.nats import NatsRouter

from contracts.api.evaluations import EvaluationRequest, PromptCase
from contracts.commands import StartEvaluation
from contracts.events import EvaluationCompleted, EvaluationFailed
from contracts.events.evaluations import EvaluationProgressed
from libs.artifacts import LocalArtifactStore
from libs.messaging import Bus, OutboxRelay, Subjects, event_subscriber
from libs.storage import Database
from services.evaluator.evaluations import Evaluations
from services.evaluator.experiments import Experiments
from services.evaluator.handlers import evaluator_handlers
from services.registry import queries
from services.registry.handlers import registry_handlers
from services.registry.registry import Registry
from tests.integration.evaluator.model_server import serving_models
from tests.integration.evaluator.test_experiment_over_nats import job_completed
from tests.integration.harness import running_bus
from tests.polling import eventually

pytestmark = pytest.mark.integration


async def test_evaluation_metrics_reach_the_registry_versions(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    progressed: list[EvaluationProgressed] = []
    completed: list[EvaluationCompleted] = []
    listener = NatsRouter()

    @event_subscriber(listener, subjects, "observer", EvaluationProgressed)
    async def on_progress(event: EvaluationProgressed) -> None:
        progressed.append(event)

    @event_subscriber(listener, subjects, "observer", EvaluationCompleted)
    async def on_completed(event: EvaluationCompleted) -> None:
        completed.append(event)

    database = Database(migrated_database_url)
    placeholder = Bus(None, subjects)  # type: ignore[arg-type]
    registry = Registry(
        database, placeholder, LocalArtifactStore(tmp_path), OutboxRelay(database, placeholder)
    )
    router = NatsRouter()
    router.include_router(registry_handlers(registry, subjects))
    router.include_router(listener)
    try:
        async with serving_models() as base_url, running_bus(nats_url, subjects, router) as bus:
            outbox = OutboxRelay(database, bus)
            registry.bus, registry.outbox = bus, outbox
            outbox.start()
            v1 = await registry.register_job_output(job_completed("job-1", "a"))
            v2 = await registry.register_job_output(job_completed("job-2", "b"))
            assert v1 is not None
            assert v2 is not None
            evaluations = Evaluations(
                database, bus, outbox, LocalArtifactStore(tmp_path), base_url, 2, 10
            )
            prompts = [
                PromptCase(prompt=f"Capital of {country}?", reference=capital)
                for country, capital in (("France", "Paris"), ("Italy", "Rome"))
            ] * 5
            request = EvaluationRequest(models=[v1.serving_name, v2.serving_name], prompts=prompts)
            view = await evaluations.create("acme", request)
            await eventually(lambda: bool(completed), what="evaluation.completed")

            async def attached() -> bool:
                async with database.session() as session:
                    version = await queries.describe_version(session, "acme", "support-bot", 2)
                return "normalized_match" in version.quality_metrics

            await eventually(attached, what="metrics on version 2")
            await eventually(
                lambda: any(event.done == 20 for event in progressed), what="final progress"
            )
            async with database.session() as session:
                tuned = await queries.describe_version(session, "acme", "support-bot", 2)
                base = await queries.describe_version(session, "acme", "support-bot", 1)
            await outbox.stop()
    finally:
        await database.dispose()
    assert completed[0].evaluation_id == view.evaluation_id
    assert max(event.done for event in progressed) == progressed[0].total == 20
    assert tuned.quality_metrics["normalized_match"] == 1.0
    assert tuned.quality_metrics["win_rate_normalized_match"] == 1.0
    assert base.quality_metrics["normalized_match"] == 0.0


async def test_an_evaluation_started_by_command_runs_once_and_a_refusal_is_told(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    completed: list[EvaluationCompleted] = []
    failed: list[EvaluationFailed] = []
    listener = NatsRouter()

    @event_subscriber(listener, subjects, "observer", EvaluationCompleted)
    async def on_completed(event: EvaluationCompleted) -> None:
        completed.append(event)

    @event_subscriber(listener, subjects, "observer", EvaluationFailed)
    async def on_failed(event: EvaluationFailed) -> None:
        failed.append(event)

    database = Database(migrated_database_url)
    placeholder = Bus(None, subjects)  # type: ignore[arg-type]
    async with serving_models() as base_url:
        evaluations = Evaluations(
            database,
            placeholder,
            OutboxRelay(database, placeholder),
            LocalArtifactStore(tmp_path),
            base_url,
            2,
            10,
        )
        experiments = Experiments(database, placeholder, OutboxRelay(database, placeholder), 0.0)
        router = NatsRouter()
        router.include_router(evaluator_handlers(experiments, evaluations, subjects))
        router.include_router(listener)
        try:
            async with running_bus(nats_url, subjects, router) as bus:
                outbox = OutboxRelay(database, bus)
                evaluations.bus, evaluations.outbox = bus, outbox
                outbox.start()
                prompts = [PromptCase(prompt="Capital of Italy?", reference="Rome")] * 3
                command = StartEvaluation(
                    tenant="acme",
                    evaluation_id="eval-rt-1",
                    request=EvaluationRequest(models=["base", "good"], prompts=prompts),
                )
                await bus.send_command(command)
                await bus.send_command(command.model_copy(update={"id": "delivered-again"}))
                await eventually(lambda: bool(completed), what="evaluation.completed")
                missing = StartEvaluation(
                    tenant="acme",
                    evaluation_id="eval-rt-2",
                    request=EvaluationRequest(models=["base", "good"], dataset_sha256="e" * 64),
                )
                await bus.send_command(missing)
                await eventually(lambda: bool(failed), what="evaluation.failed")
                view = await evaluations.view("acme", "eval-rt-1")
                await outbox.stop()
        finally:
            await evaluations.close()
            await database.dispose()
    [done] = completed
    assert done.evaluation_id == "eval-rt-1"
    assert done.metrics["good"]["normalized_match"] == 1.0
    assert view.total == 6, "the command delivered twice started one evaluation"
    [refused] = failed
    assert refused.evaluation_id == "eval-rt-2"
    assert "no artifact" in refused.error
