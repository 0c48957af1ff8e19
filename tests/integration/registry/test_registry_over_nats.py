"""The registry service over real NATS: job.completed in, model events out, commands, refusals."""

from pathlib import Path

import nats
import pytest
from faststream.nats import NatsRouter

from contracts.commands import ArchiveModel, DeployModel
from contracts.events import ModelDeployed, ModelRegistered
from libs.messaging import OutboxRelay, Subjects, event_subscriber, list_dead_letters
from services.registry.handlers import registry_handlers
from tests.integration.harness import running_bus
from tests.integration.registry.conftest import job_completed, registry_on
from tests.polling import eventually

pytestmark = pytest.mark.integration


async def test_job_completed_to_deployed_over_the_bus(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    seen: list[object] = []
    listener = NatsRouter()

    @event_subscriber(listener, subjects, "observer", ModelRegistered)
    async def on_registered(event: ModelRegistered) -> None:
        seen.append(event)

    @event_subscriber(listener, subjects, "observer", ModelDeployed)
    async def on_deployed(event: ModelDeployed) -> None:
        seen.append(event)

    registry = registry_on(migrated_database_url, tmp_path)
    router = NatsRouter()
    router.include_router(registry_handlers(registry, subjects))
    router.include_router(listener)
    client = await nats.connect(nats_url)
    try:
        async with running_bus(nats_url, subjects, router) as bus:
            registry.bus = bus  # the registry publishes through the running broker
            registry.outbox = OutboxRelay(registry.database, bus)
            registry.outbox.start()
            event = job_completed("job-nats", tenant="acme")
            await bus.publish_event(event)
            await bus.publish_event(event.model_copy(update={"id": "another-delivery"}))
            await eventually(lambda: len(seen) == 1, what="model.registered")
            await bus.send_command(
                DeployModel(tenant="acme", model_name="support-bot", version=1, notes="ship it")
            )
            await eventually(lambda: len(seen) == 2, what="model.deployed")
            await bus.send_command(ArchiveModel(tenant="acme", model_name="support-bot", version=1))

            async def refused() -> bool:
                return len(await list_dead_letters(client, subjects)) == 1

            await eventually(refused, what="archive refusal dead-lettered")
            await registry.outbox.stop()
        registered, deployed = seen
        assert isinstance(registered, ModelRegistered)
        assert registered.serving_name == f"support-bot@1-{'a' * 8}"
        assert isinstance(deployed, ModelDeployed)
        assert deployed.alias == "production"
        assert deployed.notes == "ship it"
        assert deployed.artifact_sha256 == "a" * 64
        assert deployed.tenant == "acme"
        [letter] = await list_dead_letters(client, subjects)
        assert letter.reason == "rejected"
        assert "served by alias(es) production" in letter.error
    finally:
        await client.close()
        await registry.database.dispose()
