"""A registry over a real, migrated database (SQLite and PostgreSQL)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.nats import NatsBroker

from contracts.events import JobCompleted
from libs.artifacts import LocalArtifactStore
from libs.messaging import Bus, OutboxRelay, Subjects
from libs.storage import Database
from services.registry.registry import Registry


def registry_on(
    url: str, artifacts: Path, subjects: Subjects | None = None, broker: NatsBroker | None = None
) -> Registry:
    database = Database(url)
    bus = Bus(broker or NatsBroker(), subjects or Subjects("unit"))
    return Registry(database, bus, LocalArtifactStore(artifacts), OutboxRelay(database, bus))


@pytest.fixture
async def registry(migrated_database_url: str, tmp_path: Path) -> AsyncIterator[Registry]:
    instance = registry_on(migrated_database_url, tmp_path / "artifacts")
    yield instance
    await instance.database.dispose()


def job_completed(
    job_id: str,
    model_name: str = "support-bot",
    tenant: str = "acme",
    sha_digit: str = "a",
    loss: float = 0.5,
) -> JobCompleted:
    return JobCompleted(
        tenant=tenant,
        job_id=job_id,
        base_model="tiny-llama",
        model_name=model_name,
        fine_tuned_model=f"tiny-llama:support:{job_id}",
        dataset="support",
        dataset_version=1,
        adapter_sha256=sha_digit * 64,
        adapter_uri=f"file:///artifacts/{sha_digit * 64}",
        adapter_bytes=1234,
        metrics={"train_loss": loss},
        trained_tokens=5000,
        wall_seconds=30.0,
        hyperparameters={"epochs": 3, "lora_r": 8},
    )
