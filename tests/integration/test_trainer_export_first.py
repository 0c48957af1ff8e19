"""A job can ask the exporter for its dataset first: it waits in ``validating_files`` for the
export, then trains on it; a failed export fails the job with the exporter's reason."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from contracts.events import JobCreated, JobFailed, JobQueued
from libs.messaging import Subjects
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from services.exporter import DEFINITION as EXPORTER
from services.exporter.settings import ExporterSettings
from tests.conftest import unique_name
from tests.integration.exporter_support import example
from tests.integration.harness import running_bus
from tests.integration.trainer_harness import EventLog, running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.identity import TEST_SECRET, as_gateway

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@asynccontextmanager
async def running_exporter(settings: ExporterSettings) -> AsyncIterator[AssembledService]:
    service = assemble(EXPORTER, settings)
    await start_messaging(service)
    try:
        yield service
    finally:
        await stop_messaging(service)


def client_of(service: AssembledService, name: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.api),
        base_url=f"http://{name}",
        auth=as_gateway(),
    )


async def test_a_job_exports_its_gold_stars_first_then_is_queued(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    log = EventLog()
    trainer = trainer_settings(tmp_path, nats_url, subjects)
    exporter = ExporterSettings(
        home=tmp_path,
        nats_url=nats_url,
        subject_prefix=subjects.prefix,
        database_url=trainer.database_url,
        artifacts_dir=tmp_path / "artifacts",
        exporter_tokenizer=tiny_model_dir,
        exporter_min_examples=5,
        internal_secret=TEST_SECRET,
    )
    dataset = unique_name("gold-")
    async with (
        running_trainer(trainer) as trainer_service,
        running_exporter(exporter) as exporter_service,
        running_bus(nats_url, subjects, log.router(subjects)),
        client_of(exporter_service, "exporter") as examples,
        client_of(trainer_service, "trainer") as jobs,
    ):
        rows = [example(i, gold_star=i % 3 != 0) for i in range(30)]
        added = await examples.post("/v1/examples", json={"examples": rows})
        assert added.status_code == 201, added.text

        export = {"name": dataset, "filters": {"gold_star_only": True}, "test_fraction": 0.0}
        both = await jobs.post(
            "/v1/fine_tuning/jobs",
            json={"model": str(tiny_model_dir), "training_file": "a" * 64, "export": export},
        )
        assert both.status_code == 400
        assert both.json()["error"]["code"] == "conflicting_training_data"

        created = await jobs.post(
            "/v1/fine_tuning/jobs",
            json={
                "model": str(tiny_model_dir),
                "export": export,
                "hyperparameters": {"max_steps": 1},
            },
        )
        assert created.status_code == 200, created.text
        job_id = created.json()["id"]
        assert created.json()["status"] == "validating_files"
        await eventually(lambda: bool(log.of(job_id, JobQueued)), timeout=60, what="queued")
        [queued] = log.of(job_id, JobQueued)
        assert queued.train_rows == 20  # the gold stars only
        job = (await jobs.get(f"/v1/fine_tuning/jobs/{job_id}")).json()
        assert job["training_file"]
        assert job["dataset"] == dataset
        assert job["dataset_version"] == 1
        assert log.of(job_id, JobCreated)[0].export is not None

        nothing = {"name": unique_name("none-"), "filters": {"domain": "no-such-domain"}}
        doomed = await jobs.post(
            "/v1/fine_tuning/jobs", json={"model": str(tiny_model_dir), "export": nothing}
        )
        doomed_id = doomed.json()["id"]
        await eventually(lambda: bool(log.of(doomed_id, JobFailed)), timeout=60, what="failed")
        [failed] = log.of(doomed_id, JobFailed)
        assert failed.error.code == "export_failed"
        assert "create the job again" in failed.error.message
        await jobs.post(f"/v1/fine_tuning/jobs/{job_id}/cancel")
