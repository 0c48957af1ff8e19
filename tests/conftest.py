"""Fixtures shared by every tier.

Servers are started once per session and isolated per test by unique names: each test gets
its own subject prefix (so its own streams and consumers) and its own database.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.messaging import Subjects
from libs.supervision.nats_server import EmbeddedNats
from libs.supervision.postgres import ThrowawayPostgres

pytest_plugins = ["tests.support.stall_report"]

TIERS = {"unit", "integration", "e2e", "vllm"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test belongs to exactly one tier."""
    for item in items:
        tiers = TIERS & {marker.name for marker in item.iter_markers()}
        if len(tiers) != 1:
            raise pytest.UsageError(f"{item.nodeid} must be marked with exactly one of {TIERS}")


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: EmbeddedNats) -> str:
    return nats_server.url


@pytest.fixture
def subjects() -> Subjects:
    """A subject prefix of this test's own: its own streams, consumers and dead letters."""
    return Subjects(prefix=unique_name("t"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    cluster = ThrowawayPostgres()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of this test's own, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'tuneloop.db'}"
    cluster: ThrowawayPostgres = request.getfixturevalue("postgres")
    return cluster.create_database(unique_name("db"))


@pytest.fixture
async def migrated_database_url(database_url: str) -> str:
    from libs.storage import migrate_to_head

    await migrate_to_head(database_url)
    return database_url


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TUNELOOP_* or OTEL_* variable from the outer environment leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("TUNELOOP_", "OTEL_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def exporter_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small tokenizer-only Hugging Face directory (BPE, ChatML template) built locally."""
    from tests.tokenizer_builder import build_tokenizer_dir

    return build_tokenizer_dir(tmp_path_factory.mktemp("tokenizer"))


@pytest.fixture(scope="session")
def models_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A base-model cache (``TUNELOOP_MODELS_DIR``) shared by the session's tests."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_model_dir(models_cache_dir: Path) -> Path:
    """The tiny Llama (tokenizer, ChatML template, briefly pretrained), built once per session."""
    from libs.models import resolve_base_model

    return resolve_base_model("tiny-llama", models_cache_dir)
