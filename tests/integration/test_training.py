"""Real training through the trainer service: command in, events out, an adapter that works."""

from pathlib import Path

import httpx
import pytest
from scipy.stats import binomtest

from contracts.commands import CancelJob, CreateJob
from contracts.events import JobCancelled, JobCheckpointed, JobCompleted, JobProgressed
from contracts.training import Hyperparameters
from libs.artifacts.directories import untar_bytes
from libs.messaging import Subjects
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.trainer_harness import EventLog, running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.evaluation import exact_matches
from tests.support.identity import as_gateway
from tests.support.ticket_task import jsonl, split

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


def exact_mcnemar_p(adapter_only: int, base_only: int) -> float:
    """Two-sided exact McNemar test on the discordant pairs."""
    discordant = adapter_only + base_only
    return float(binomtest(adapter_only, discordant, 0.5).pvalue) if discordant else 1.0


async def test_a_lora_job_learns_the_task_and_beats_the_base_model(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    train_rows, held_out = split(400, 60, seed=1)
    log = EventLog()
    settings = trainer_settings(tmp_path, nats_url, subjects)
    async with (
        running_trainer(settings) as service,
        running_bus(nats_url, subjects, log.router(subjects)) as bus,
    ):
        training_file = await service.context.artifacts.put_bytes(jsonl(train_rows))
        job_id = unique_name("ftjob-")
        hyperparameters = Hyperparameters(
            max_steps=100,
            batch_size=16,
            learning_rate=1e-2,
            lora_r=16,
            lora_alpha=32,
            lora_dropout=0.0,
            validation_split=0.1,
            eval_steps=50,
        )
        await bus.send_command(
            CreateJob(
                job_id=job_id,
                base_model=str(tiny_model_dir),
                training_file=training_file.sha256,
                dataset="tickets",
                dataset_version=1,
                hyperparameters=hyperparameters,
                suffix="tickets",
            )
        )
        await eventually(lambda: log.settled(job_id), timeout=150, what="the job to end")
        [completed] = log.of(job_id, JobCompleted)
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=as_gateway()
        ) as client:
            job = (await client.get(f"/v1/fine_tuning/jobs/{job_id}")).json()
            history = (await client.get(f"/v1/fine_tuning/jobs/{job_id}/events")).json()["data"]
            modelfile = (await client.get(f"/v1/fine_tuning/jobs/{job_id}/Modelfile")).text
        adapter = await service.context.artifacts.get_bytes(completed.adapter_sha256)

    assert job["status"] == "succeeded"
    assert job["fine_tuned_model"] == completed.fine_tuned_model
    assert job["result_files"] == [completed.adapter_sha256]
    types = [event["data"]["type"] for event in history]
    assert types[:3] == ["job.created", "job.queued", "job.started"]
    assert types[-1] == "job.completed"
    assert "job.checkpoint" in types
    assert f"FROM {tiny_model_dir}" in modelfile
    assert "ADAPTER ./adapter" in modelfile

    progress = log.of(job_id, JobProgressed)
    steps = [event.step for event in progress]
    assert steps == sorted(steps)
    assert progress[-1].step == progress[-1].total_steps == 100
    losses = [event.train_loss for event in progress if event.train_loss is not None]
    assert losses[-1] < losses[0] / 2
    assert any(event.reason == "eval" and event.validation_loss for event in progress)
    assert {event.step for event in log.of(job_id, JobCheckpointed)} <= {
        event.step for event in progress if event.reason == "checkpoint"
    }
    assert completed.trained_tokens > 0
    assert completed.metrics["final_train_loss"] < losses[0]

    adapter_dir = untar_bytes(adapter, tmp_path / "adapter")
    base = exact_matches(tiny_model_dir, held_out)
    tuned = exact_matches(tiny_model_dir, held_out, adapter_dir)
    answers = [row["messages"][-1]["content"] for row in train_rows]
    majority = max(set(answers), key=answers.count)
    majority_correct = sum(row["messages"][-1]["content"] == majority for row in held_out)
    adapter_only = sum(t and not b for t, b in zip(tuned, base, strict=True))
    base_only = sum(b and not t for t, b in zip(tuned, base, strict=True))
    assert sum(tuned) > majority_correct, (sum(tuned), majority_correct)
    assert adapter_only > base_only
    assert exact_mcnemar_p(adapter_only, base_only) < 0.001, (sum(tuned), sum(base))


async def test_cancel_stops_a_running_job_and_keeps_its_last_checkpoint(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    train_rows, _ = split(200, 0, seed=2)
    log = EventLog()
    settings = trainer_settings(tmp_path, nats_url, subjects, cancel_grace_seconds=5.0)
    async with (
        running_trainer(settings) as service,
        running_bus(nats_url, subjects, log.router(subjects)) as bus,
    ):
        training_file = await service.context.artifacts.put_bytes(jsonl(train_rows))
        job_id = unique_name("ftjob-")
        await bus.send_command(
            CreateJob(
                job_id=job_id,
                base_model=str(tiny_model_dir),
                training_file=training_file.sha256,
                hyperparameters=Hyperparameters(max_steps=5000, batch_size=8, checkpoint_steps=5),
            )
        )
        await eventually(
            lambda: bool(log.of(job_id, JobCheckpointed)), timeout=90, what="a first checkpoint"
        )
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=as_gateway()
        ) as client:
            running = (await client.get(f"/v1/fine_tuning/jobs/{job_id}")).json()
        await bus.send_command(CancelJob(job_id=job_id))
        await eventually(lambda: log.ended(job_id), timeout=90, what="the job to stop")

        def last_checkpoint_announced() -> bool:
            # events of different kinds may arrive in any order: the last checkpoint's
            # job.checkpointed can follow job.cancelled
            [cancelled] = log.of(job_id, JobCancelled)
            shas = {c.artifact_sha256 for c in log.of(job_id, JobCheckpointed)}
            return cancelled.last_checkpoint_sha256 in shas

        await eventually(last_checkpoint_announced, what="the last checkpoint announced")
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=as_gateway()
        ) as client:
            job = (await client.get(f"/v1/fine_tuning/jobs/{job_id}")).json()
    [cancelled] = log.of(job_id, JobCancelled)
    checkpoints = log.of(job_id, JobCheckpointed)
    assert running["status"] == "running"
    assert running["estimated_finish"] > running["created_at"]
    assert job["status"] == "cancelled"
    assert job["estimated_finish"] is None
    assert cancelled.last_checkpoint_sha256 in {c.artifact_sha256 for c in checkpoints}
    assert max(e.step for e in log.of(job_id, JobProgressed)) < 5000
