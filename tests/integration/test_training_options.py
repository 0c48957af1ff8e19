"""Training options that change how a job runs: early stopping on validation loss, packing."""

from pathlib import Path
from typing import Any

import pytest

from contracts.commands import CreateJob
from contracts.events import JobCompleted, JobFailed, JobProgressed
from contracts.training import Hyperparameters
from libs.messaging import Subjects
from tests.conftest import unique_name
from tests.integration.harness import running_bus
from tests.integration.trainer_harness import EventLog, running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.ticket_task import TEAMS, jsonl, split

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


def mislabelled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same tickets routed to the wrong team: learning the task makes their loss worse."""
    teams = sorted(TEAMS)
    wrong = {team: teams[(i + 1) % len(teams)] for i, team in enumerate(teams)}
    return [
        {
            "messages": [
                row["messages"][0],
                {"role": "assistant", "content": wrong[row["messages"][1]["content"]]},
            ]
        }
        for row in rows
    ]


async def run_job(
    tmp_path: Path,
    nats_url: str,
    subjects: Subjects,
    model: Path,
    hyperparameters: Hyperparameters,
    validation: list[dict[str, Any]] | None = None,
) -> tuple[EventLog, str]:
    rows, _ = split(200, 0, seed=5)
    log = EventLog()
    settings = trainer_settings(tmp_path, nats_url, subjects)
    async with (
        running_trainer(settings) as service,
        running_bus(nats_url, subjects, log.router(subjects)) as bus,
    ):
        store = service.context.artifacts
        training_file = (await store.put_bytes(jsonl(rows))).sha256
        validation_file = (await store.put_bytes(jsonl(validation))).sha256 if validation else None
        job_id = unique_name("ftjob-")
        await bus.send_command(
            CreateJob(
                job_id=job_id,
                base_model=str(model),
                training_file=training_file,
                validation_file=validation_file,
                hyperparameters=hyperparameters,
            )
        )
        await eventually(lambda: log.settled(job_id), timeout=240, what="the job to end")
    return log, job_id


async def test_early_stopping_ends_the_job_when_validation_loss_stops_improving(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    rows, _ = split(40, 0, seed=11)
    hyperparameters = Hyperparameters(
        max_steps=150,
        batch_size=16,
        learning_rate=1e-2,
        lora_r=16,
        lora_alpha=32,
        lora_dropout=0.0,
        eval_steps=5,
        early_stopping_patience=2,
    )
    log, job_id = await run_job(
        tmp_path, nats_url, subjects, tiny_model_dir, hyperparameters, mislabelled(rows)
    )
    assert not log.of(job_id, JobFailed)
    [completed] = log.of(job_id, JobCompleted)
    progress = log.of(job_id, JobProgressed)
    evals = [p for p in progress if p.reason == "eval" and p.validation_loss is not None]
    assert len(evals) >= 3
    last_step = max(p.step for p in progress)
    assert last_step < 150, "early stopping should end the job before max_steps"
    best = min(p.validation_loss for p in evals)
    assert evals[-1].validation_loss > best  # it stopped because validation loss got worse
    assert completed.metrics


async def test_packing_trains_several_rows_per_sequence(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    hyperparameters = Hyperparameters(max_steps=4, batch_size=4, packing=True, max_seq_length=128)
    log, job_id = await run_job(tmp_path, nats_url, subjects, tiny_model_dir, hyperparameters)
    failures = log.of(job_id, JobFailed)
    assert not failures, failures[0].error if failures else None
    [completed] = log.of(job_id, JobCompleted)
    assert completed.hyperparameters["max_seq_length"] == 128
    assert completed.trained_tokens > 0


def preference_row(row: dict[str, Any], wrong: str) -> dict[str, Any]:
    """OpenAI's preference format: the right team preferred over a wrong one."""
    user, answer = row["messages"]
    return {
        "input": {"messages": [user]},
        "preferred_output": [answer],
        "non_preferred_output": [{"role": "assistant", "content": wrong}],
    }


async def test_a_dpo_job_learns_to_prefer_the_preferred_answers(
    tmp_path: Path, nats_url: str, subjects: Subjects, tiny_model_dir: Path
) -> None:
    rows, _ = split(96, 0, seed=21)
    teams = sorted(TEAMS)
    preferences = [
        preference_row(row, teams[(teams.index(row["messages"][1]["content"]) + 1) % 4])
        for row in rows
    ]
    log = EventLog()
    settings = trainer_settings(tmp_path, nats_url, subjects)
    async with (
        running_trainer(settings) as service,
        running_bus(nats_url, subjects, log.router(subjects)) as bus,
    ):
        training_file = (await service.context.artifacts.put_bytes(jsonl(preferences))).sha256
        wrong_shape = (await service.context.artifacts.put_bytes(jsonl(rows))).sha256
        job_id, misfiled = unique_name("dpo-"), unique_name("dpo-")
        hyperparameters = Hyperparameters(
            max_steps=30, batch_size=8, learning_rate=5e-3, lora_r=16, lora_alpha=32, beta=0.1
        )
        for identifier, sha in ((job_id, training_file), (misfiled, wrong_shape)):
            await bus.send_command(
                CreateJob(
                    job_id=identifier,
                    base_model=str(tiny_model_dir),
                    training_file=sha,
                    method="dpo",
                    hyperparameters=hyperparameters,
                )
            )
        await eventually(lambda: log.settled(job_id), timeout=240, what="the DPO job to end")
        await eventually(lambda: log.ended(misfiled), what="the misfiled job to end")
    [refused] = log.of(misfiled, JobFailed)
    assert refused.error.code == "invalid_file_format"
    assert "openai-preference-jsonl" in refused.error.message
    failures = log.of(job_id, JobFailed)
    assert not failures, failures[0].error if failures else None
    [completed] = log.of(job_id, JobCompleted)
    losses = [p.train_loss for p in log.of(job_id, JobProgressed) if p.train_loss is not None]
    # DPO loss starts at log 2 and falls as preferences are learnt; each logged loss is one
    # batch of 8, so the end of training is judged by the mean of its last third
    tail = losses[-max(1, len(losses) // 3) :]
    assert sum(tail) / len(tail) < min(losses[0], 0.69), losses
    assert completed.metrics["final_train_loss"] is not None
