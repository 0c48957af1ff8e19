"""Jobs that cannot run fail fast with a specific error; a dead worker's job is taken over."""

import io
import os
import signal
import subprocess
import sys
import tarfile
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from contracts.commands import CreateJob
from contracts.envelope import utc_now
from contracts.events import JobCheckpointed, JobCompleted, JobFailed, JobStarted
from contracts.training import Hyperparameters
from libs.artifacts import LocalArtifactStore
from libs.messaging import Subjects
from libs.storage import migrate_to_head
from services.trainer.tables import TrainerJob
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.trainer_harness import EventLog, running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.identity import TEST_SECRET, as_gateway
from tests.support.ticket_task import jsonl, split

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


async def test_bad_configurations_fail_fast_with_specific_errors(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    rows, _ = split(40, 0, seed=3)
    log = EventLog()
    settings = trainer_settings(tmp_path, nats_url, subjects, max_concurrent_jobs=2)
    async with (
        running_trainer(settings) as service,
        running_bus(nats_url, subjects, log.router(subjects)) as bus,
    ):
        training_file = (await service.context.artifacts.put_bytes(jsonl(rows))).sha256
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=as_gateway()
        ) as client:
            created = await client.post(
                "/v1/fine_tuning/jobs",
                json={
                    "model": str(tmp_path / "no-such-model"),
                    "training_file": training_file,
                },
            )
        unknown_model = created.json()["id"]
        assert created.json()["status"] == "validating_files"
        bad_module, too_long = unique_name("ftjob-"), unique_name("ftjob-")
        for job_id, hyperparameters in (
            (bad_module, Hyperparameters(lora_target_modules=["q_proj", "attn_qkv"])),
            (too_long, Hyperparameters(max_seq_length=12)),
        ):
            await bus.send_command(
                CreateJob(
                    job_id=job_id,
                    base_model=str(tiny_model_dir),
                    training_file=training_file,
                    hyperparameters=hyperparameters,
                )
            )
        for job_id in (unknown_model, bad_module, too_long):
            await eventually(lambda j=job_id: log.ended(j), timeout=90, what=f"{job_id} to end")
    errors = {
        job_id: log.of(job_id, JobFailed)[0].error
        for job_id in (unknown_model, bad_module, too_long)
    }
    assert errors[unknown_model].code == "base_model_not_found"
    assert "no-such-model" in errors[unknown_model].message
    assert errors[bad_module].code == "lora_target_module_not_found"
    assert "attn_qkv" in errors[bad_module].message
    assert "q_proj" in errors[bad_module].message.split("are:")[1]
    assert errors[too_long].code == "row_too_long"
    assert "max_seq_length=12" in errors[too_long].message
    assert not log.of(unknown_model, JobStarted)


def worker_process(
    settings_home: Path, nats_url: str, subjects: Subjects
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUNELOOP_", "OTEL_"))}
    env.update(
        {
            "TUNELOOP_HOME": str(settings_home),
            "TUNELOOP_NATS_URL": nats_url,
            "TUNELOOP_SUBJECT_PREFIX": subjects.prefix,
            "TUNELOOP_DATABASE_URL": f"sqlite+aiosqlite:///{settings_home / 'tuneloop.db'}",
            "TUNELOOP_ARTIFACTS_DIR": str(settings_home / "artifacts"),
            "TUNELOOP_MODELS_DIR": str(settings_home / "models"),
            "TUNELOOP_TRAINER_LEASE_SECONDS": "4",
            "TUNELOOP_TORCH_THREADS": "1",
            "TUNELOOP_LOG_FORMAT": "text",
            "TUNELOOP_INTERNAL_SECRET": TEST_SECRET,
        }
    )
    with (settings_home / "worker.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "services.trainer"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def test_a_job_whose_worker_is_killed_resumes_on_another_worker(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    rows, _ = split(200, 0, seed=4)
    log = EventLog()
    settings = trainer_settings(tmp_path, nats_url, subjects, lease_seconds=4.0)
    await migrate_to_head(settings.resolved_database_url())
    worker = worker_process(tmp_path, nats_url, subjects)
    job_id = unique_name("ftjob-")
    try:
        async with running_bus(nats_url, subjects, log.router(subjects)) as bus:
            store = LocalArtifactStore(settings.resolved_artifacts_dir())
            training_file = (await store.put_bytes(jsonl(rows))).sha256
            await bus.send_command(
                CreateJob(
                    job_id=job_id,
                    base_model=str(tiny_model_dir),
                    training_file=training_file,
                    # long enough that the first worker is still training when the test
                    # hears of its first checkpoint, even on an idle machine (~30 steps/s)
                    hyperparameters=Hyperparameters(
                        max_steps=400, batch_size=8, checkpoint_steps=10
                    ),
                    export_merged=True,
                )
            )
            await eventually(
                lambda: bool(log.of(job_id, JobCheckpointed)),
                timeout=90,
                what="a checkpoint from the first worker",
            )
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            async with running_trainer(settings):
                await eventually(lambda: log.ended(job_id), timeout=150, what="the job to end")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    starts = log.of(job_id, JobStarted)
    assert [s.attempt for s in starts][:2] == [1, 2]
    assert starts[1].resumed_from_step is not None
    assert starts[1].resumed_from_step >= 10
    assert starts[0].worker != starts[1].worker
    [completed] = log.of(job_id, JobCompleted)
    merged = await LocalArtifactStore(settings.resolved_artifacts_dir()).get_bytes(
        completed.merged_model_sha256 or ""
    )
    with tarfile.open(fileobj=io.BytesIO(merged)) as archive:
        names = set(archive.getnames())
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names


async def test_a_job_out_of_attempts_fails_with_a_clear_reason(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    log = EventLog()
    settings = trainer_settings(
        tmp_path, nats_url, subjects, database_url, lease_seconds=1.0, max_attempts=1
    )
    await migrate_to_head(settings.resolved_database_url())
    job_id = unique_name("ftjob-")
    from libs.storage import Database

    database = Database(settings.resolved_database_url())
    async with database.transaction() as session:
        session.add(
            TrainerJob(
                id=job_id,
                tenant="default",
                status="running",
                base_model="tiny-llama",
                training_file="0" * 64,
                backend="trl",
                method="supervised",
                hyperparameters={},
                attempts=1,
                lease_owner="gone-worker",
                lease_expires_at=utc_now() - timedelta(seconds=5),
            )
        )
    await database.dispose()
    async with running_bus(nats_url, subjects, log.router(subjects)), running_trainer(settings):
        await eventually(lambda: log.ended(job_id), timeout=20, what="the job to fail")
    [failed] = log.of(job_id, JobFailed)
    assert failed.error.code == "worker_lost"
    assert "ran out of attempts" in failed.error.message
