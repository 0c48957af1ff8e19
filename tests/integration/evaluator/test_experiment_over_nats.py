"""An experiment over real NATS with the real registry: the winner is promoted, a loser stopped."""

from pathlib import Path

import pytest
from faststream.nats import NatsRouter
from sqlalchemy import func, select
from sqlmodel import col

from contracts.commands import DeployModel
from contracts.events import ExperimentConcluded, ExperimentUpdated, JobCompleted
from libs.artifacts import LocalArtifactStore
from libs.messaging import Bus, OutboxRelay, Subjects, event_subscriber
from libs.messaging.tables import ProcessedMessage
from libs.storage import Database
from services.evaluator.evaluations import Evaluations
from services.evaluator.experiments import FEEDBACK_CONSUMER, INFERENCE_CONSUMER, Experiments
from services.evaluator.handlers import evaluator_handlers
from services.registry import queries
from services.registry.handlers import registry_handlers
from services.registry.registry import Registry
from tests.conftest import unique_name
from tests.integration.evaluator.conftest import rated, served, started
from tests.integration.harness import running_bus
from tests.polling import eventually

pytestmark = pytest.mark.integration


def job_completed(job_id: str, sha_digit: str) -> JobCompleted:
    return JobCompleted(
        tenant="acme",
        job_id=job_id,
        base_model="tiny-llama",
        model_name="support-bot",
        fine_tuned_model=f"tiny-llama:support:{job_id}",
        dataset="support",
        dataset_version=1,
        adapter_sha256=sha_digit * 64,
        adapter_uri=f"file:///artifacts/{sha_digit * 64}",
        adapter_bytes=1234,
        metrics={"train_loss": 0.5},
        trained_tokens=5000,
        wall_seconds=30.0,
        hyperparameters={"epochs": 1},
    )


async def run_experiment(
    nats_url: str, subjects: Subjects, database_url: str, tmp_path: Path, treatment_stars: int
) -> tuple[ExperimentConcluded, list[ExperimentUpdated], int]:
    """Two registered versions, v1 in production; an A/B test where the treatment earns
    ``treatment_stars`` gold stars in five requests against control's one."""
    concluded: list[ExperimentConcluded] = []
    updated: list[ExperimentUpdated] = []
    listener = NatsRouter()

    @event_subscriber(listener, subjects, "observer", ExperimentConcluded)
    async def on_concluded(event: ExperimentConcluded) -> None:
        concluded.append(event)

    @event_subscriber(listener, subjects, "observer", ExperimentUpdated)
    async def on_updated(event: ExperimentUpdated) -> None:
        updated.append(event)

    database = Database(database_url)
    placeholder = Bus(None, subjects)  # type: ignore[arg-type]
    registry = Registry(
        database, placeholder, LocalArtifactStore(tmp_path), OutboxRelay(database, placeholder)
    )
    experiments = Experiments(database, placeholder, OutboxRelay(database, placeholder), 0.0)
    router = NatsRouter()
    router.include_router(registry_handlers(registry, subjects))
    evaluations = Evaluations(
        database,
        placeholder,
        OutboxRelay(database, placeholder),
        LocalArtifactStore(tmp_path),
        "http://127.0.0.1:9/v1",
    )
    router.include_router(
        evaluator_handlers(experiments, evaluations, subjects, ingest_concurrency=16)
    )
    router.include_router(listener)
    experiment = unique_name("exp")
    try:
        async with running_bus(nats_url, subjects, router) as bus:
            outbox = OutboxRelay(database, bus)
            registry.bus = experiments.bus = bus
            registry.outbox = experiments.outbox = outbox
            outbox.start()
            v1 = await registry.register_job_output(job_completed("job-1", "a"))
            v2 = await registry.register_job_output(job_completed("job-2", "b"))
            assert v1 is not None
            assert v2 is not None
            await bus.send_command(DeployModel(tenant="acme", model_name="support-bot", version=1))

            async def production_is(version: int) -> bool:
                async with database.session() as session:
                    try:
                        alias = await queries.serving_now(
                            session, "acme", "support-bot", "production"
                        )
                    except Exception:
                        return False
                    return alias.version == version

            await eventually(lambda: production_is(1), what="v1 in production")
            await bus.publish_event(started(experiment, v1.serving_name, v2.serving_name))
            published = 0
            for index in range(70):
                for variant, serving, stars in (
                    ("control", v1.serving_name, index % 5 == 0),
                    ("tuned", v2.serving_name, index % 5 < treatment_stars),
                ):
                    request = served(experiment, variant, serving)
                    await bus.publish_event(request)
                    await bus.publish_event(rated(request, stars, with_ids=index % 2 == 0))
                    published += 2
                if index == 0:
                    # Two units cannot decide anything: this first batch must yield a snapshot,
                    # whatever batches the rest of the traffic is folded in.
                    await eventually(lambda: bool(updated), what="experiment.updated")
                if concluded:
                    break
            await eventually(lambda: bool(concluded), what="experiment.concluded", timeout=30)

            async def all_consumed() -> bool:
                async with database.session() as session:
                    query = select(func.count()).where(
                        col(ProcessedMessage.consumer).in_([INFERENCE_CONSUMER, FEEDBACK_CONSUMER])
                    )
                    return (await session.execute(query)).scalar_one() == published

            await eventually(all_consumed, what="every event consumed", timeout=30)
            if concluded[0].action == "promote":
                await eventually(lambda: production_is(2), what="v2 promoted")
            async with database.session() as session:
                production = await queries.serving_now(session, "acme", "support-bot", "production")
                history = await queries.history(session, "acme", "support-bot", "production")
            await outbox.stop()
        assert history[-1].justification == (experiment if production.version == 2 else None)
        return concluded[0], updated, production.version
    finally:
        await database.dispose()


async def test_a_better_adapter_wins_and_production_moves(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    verdict, updates, production = await run_experiment(
        nats_url, subjects, migrated_database_url, tmp_path, treatment_stars=4
    )
    assert verdict.verdict == "treatment_wins"
    assert verdict.winner == "tuned"
    assert verdict.action == "promote"
    assert "wins" in verdict.summary
    assert production == 2
    assert updates


async def test_a_worse_adapter_is_stopped_and_traffic_returns_to_control(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    verdict, _, production = await run_experiment(
        nats_url, subjects, migrated_database_url, tmp_path, treatment_stars=0
    )
    assert verdict.verdict == "control_wins"
    assert verdict.action == "route_to_control"
    assert verdict.route_to is not None
    assert verdict.route_to.startswith("support-bot@1-")
    assert "All traffic goes back to control" in verdict.summary
    assert production == 1
