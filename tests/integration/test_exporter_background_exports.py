"""Exports run in the exporter's background: a failure is recorded with its reason and leaves
no version behind; an export whose process stopped is taken over by another one."""

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from contracts.api.datasets import ExportRequest
from libs.storage import Database
from services.exporter.export_runs import ExportRunner, find_export, submit_export
from services.exporter.runtime import Exporter
from services.exporter.tables import ExporterDatasetVersion, ExporterExport
from tests.integration.exporter_support import (
    example,
    export_finished,
    exporter_on,
    http_client,
    outbox_types,
)
from tests.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(migrated_database_url: str) -> AsyncIterator[Database]:
    db = Database(migrated_database_url)
    yield db
    await db.dispose()


@pytest.fixture
def exporter(database: Database, tmp_path: Path, exporter_tokenizer_dir: Path) -> Exporter:
    built = exporter_on(database, tmp_path / "artifacts", exporter_tokenizer_dir)
    return replace(built, runner=ExportRunner(lease_seconds=0.5, retry_delays=(0.0,)))


async def versions(database: Database) -> int:
    async with database.session() as session:
        statement = select(func.count()).select_from(ExporterDatasetVersion)
        return int((await session.execute(statement)).scalar_one())


async def add_examples(client: httpx.AsyncClient, count: int = 12) -> None:
    added = await client.post("/v1/examples", json={"examples": [example(i) for i in range(count)]})
    assert added.status_code == 201, added.text


async def test_an_export_failing_while_it_writes_is_recorded_and_leaves_no_version(
    exporter: Exporter, database: Database, tmp_path: Path
) -> None:
    async with http_client(exporter) as client:
        await add_examples(client)
        staging = tmp_path / "artifacts" / "tmp"
        shutil.rmtree(staging)
        staging.write_text("not a directory: the artifact store cannot stage files")
        accepted = await client.post("/v1/datasets/exports", json={"name": "broken"})
        status = await export_finished(client, accepted)
    assert status["status"] == "failed"
    error = status["error"]
    assert error["code"] == "export_failed"
    assert "nothing was written" in error["message"]
    assert status["dataset_id"] is None
    assert await versions(database) == 0
    assert await outbox_types(database) == ["dataset.export_failed"]


async def test_an_export_whose_process_stopped_is_taken_over_and_finished(
    exporter: Exporter, database: Database
) -> None:
    async with http_client(exporter) as client:
        await add_examples(client)
        stopped = replace(exporter, runner=ExportRunner(lease_seconds=0.5))
        status = await submit_export(stopped, "default", ExportRequest(name="resumed"))
        for task in list(stopped.runner.tasks.values()):
            task.cancel()  # the process stops before finishing; its lease is not released
        survivor = exporter.runner
        assert await survivor.resume_stale(exporter) == 0  # the lease still runs

        async def taken_over() -> bool:
            return await survivor.resume_stale(exporter) == 1

        await eventually(taken_over, what="the export taken over once its lease ran out")
        await survivor.wait(status.id)
        finished = await find_export(exporter, status.id)
        attempts = await _attempts(database, status.id)
    assert finished is not None
    assert finished.status == "succeeded"
    assert finished.dataset_id == status.id
    assert finished.version == 1
    assert attempts == 2
    assert await versions(database) == 1


async def test_an_export_whose_process_keeps_stopping_fails_after_its_attempts(
    exporter: Exporter, database: Database
) -> None:
    runner = ExportRunner(lease_seconds=0.5, max_attempts=1)
    stopping = replace(exporter, runner=runner)
    status = await submit_export(stopping, "default", ExportRequest(name="doomed"))
    for task in list(runner.tasks.values()):
        task.cancel()
    await _release(database, status.id)
    assert await runner.resume_stale(stopping) == 0
    failed = await find_export(stopping, status.id)
    assert failed is not None
    assert failed.status == "failed"
    assert failed.error is not None
    assert "stopped 1 times" in failed.error.message
    assert await outbox_types(database) == ["dataset.export_failed"]


async def test_an_unknown_export_is_not_found(exporter: Exporter) -> None:
    async with http_client(exporter) as client:
        response = await client.get("/v1/datasets/exports/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "export_not_found"


async def _release(database: Database, export_id: str) -> None:
    """What a lease that ran out looks like."""
    from sqlalchemy import update
    from sqlmodel import col

    async with database.transaction() as session:
        await session.execute(
            update(ExporterExport)
            .where(col(ExporterExport.id) == export_id)
            .values(lease_expires_at=None)
        )


async def _attempts(database: Database, export_id: str) -> int:
    async with database.session() as session:
        row = await session.get(ExporterExport, export_id)
    assert row is not None
    return row.attempts
