"""The openai backend against a local server that answers like OpenAI's fine-tuning API."""

from pathlib import Path

import pytest
from pydantic import SecretStr

from contracts.commands import CancelJob, CreateJob
from contracts.events import JobCancelled, JobCompleted, JobProgressed, JobStarted
from libs.messaging import Subjects
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.trainer_harness import EventLog, running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.fake_openai import fake_openai_app, serving
from tests.support.ticket_task import jsonl, split

pytestmark = pytest.mark.integration


async def run_remote_job(
    tmp_path: Path, nats_url: str, subjects: Subjects, *, hold: bool
) -> tuple[EventLog, str]:
    log = EventLog()
    app = fake_openai_app(hold=hold)
    async with serving(app) as base_url:
        settings = trainer_settings(
            tmp_path,
            nats_url,
            subjects,
            openai_base_url=base_url,
            openai_api_key=SecretStr("sk-test"),
            openai_poll_seconds=0.05,
        )
        async with (
            running_trainer(settings) as service,
            running_bus(nats_url, subjects, log.router(subjects)) as bus,
        ):
            rows, _ = split(10, 0)
            training_file = (await service.context.artifacts.put_bytes(jsonl(rows))).sha256
            job_id = unique_name("ftjob-")
            await bus.send_command(
                CreateJob(
                    job_id=job_id,
                    base_model="gpt-4o-mini-2024-07-18",
                    training_file=training_file,
                    backend="openai",
                    suffix="tickets",
                )
            )
            if hold:
                await eventually(lambda: bool(log.of(job_id, JobStarted)), what="remote start")
                await bus.send_command(CancelJob(job_id=job_id))
            await eventually(lambda: log.ended(job_id), what="the remote job to end")
    return log, job_id


async def test_a_remote_job_reports_progress_and_its_model(
    tmp_path: Path, nats_url: str, subjects: Subjects
) -> None:
    log, job_id = await run_remote_job(tmp_path, nats_url, subjects, hold=False)
    [completed] = log.of(job_id, JobCompleted)
    assert completed.backend == "openai"
    assert completed.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:org-fake:tickets")
    assert completed.trained_tokens == 1234
    await eventually(lambda: len(log.of(job_id, JobProgressed)) == 3, what="remote metrics")
    assert [p.step for p in log.of(job_id, JobProgressed)] == [1, 2, 3]


async def test_cancelling_a_remote_job_cancels_it_at_openai(
    tmp_path: Path, nats_url: str, subjects: Subjects
) -> None:
    log, job_id = await run_remote_job(tmp_path, nats_url, subjects, hold=True)
    assert log.of(job_id, JobCancelled)
