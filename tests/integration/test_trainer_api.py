"""The trainer's OpenAI-shaped API: jobs named by an exported dataset, clear 4xx errors."""

from pathlib import Path

import httpx
import pytest

from contracts.events import DatasetExported
from libs.messaging import Subjects
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.trainer_harness import running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.identity import as_gateway

pytestmark = pytest.mark.integration


async def test_a_job_can_name_an_exported_dataset_instead_of_its_file(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    dataset = unique_name("support-")
    sha = "c" * 64
    settings = trainer_settings(tmp_path, nats_url, subjects, database_url)
    async with running_trainer(settings) as service, running_bus(nats_url, subjects) as bus:
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=as_gateway()
        ) as client:
            body = {"model": str(tmp_path / "missing"), "dataset": dataset, "dataset_version": 2}
            unknown = await client.post("/v1/fine_tuning/jobs", json=body)
            assert unknown.status_code == 404
            assert unknown.json()["error"]["code"] == "dataset_not_found"
            neither = await client.post("/v1/fine_tuning/jobs", json={"model": "tiny-llama"})
            assert neither.status_code == 400
            assert neither.json()["error"]["code"] == "training_file_required"

            await bus.publish_event(
                DatasetExported(
                    dataset=dataset,
                    version=2,
                    artifact_sha256=sha,
                    artifact_uri="file:///x",
                    train_rows=10,
                )
            )

            async def accepted() -> bool:
                response = await client.post("/v1/fine_tuning/jobs", json=body)
                return response.status_code == 200

            await eventually(accepted, what="the dataset to be known")

            async def listed() -> bool:
                return bool((await client.get("/v1/fine_tuning/jobs")).json()["data"])

            await eventually(listed, what="the job to be recorded")
            job_id = (await client.get("/v1/fine_tuning/jobs")).json()["data"][0]["id"]

            async def failed() -> bool:
                job = (await client.get(f"/v1/fine_tuning/jobs/{job_id}")).json()
                return bool(job["status"] == "failed")

            await eventually(failed, what="the job to fail validation")
            job = (await client.get(f"/v1/fine_tuning/jobs/{job_id}")).json()
            missing = await client.get("/v1/fine_tuning/jobs/ftjob-nope")
    assert job["training_file"] == sha
    assert job["dataset"] == dataset
    assert job["error"]["code"] == "base_model_not_found"
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "job_not_found"
