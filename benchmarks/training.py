"""Platform overhead of training: a LoRA job through tuneloop vs the plain TRL script.

Both train the same LoRA (tiny Llama, 400 rows, batch 16, fixed steps, one CPU thread) in a
fresh Python process. tuneloop's figure is from sending the ``job.create`` command to
receiving ``job.completed``: file checks, the queue, the training process, progress events,
checkpoints stored as artifacts and the adapter stored. The peer's is the script's wall time.
"""

import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from faststream.nats import NatsRouter

from benchmarks.report import Comparison
from contracts.commands import CreateJob
from contracts.events import JobCompleted, JobProgressed
from contracts.training import Hyperparameters
from libs.messaging import Bus, Subjects, event_subscriber
from libs.models import build_tiny_llama
from libs.runtime.assembly import assemble
from libs.runtime.process import start_messaging, stop_messaging
from libs.storage import migrate_to_head
from libs.supervision.nats_server import EmbeddedNats
from services.trainer import DEFINITION
from services.trainer.settings import TrainerSettings
from tests.support.ticket_task import jsonl, split

STEPS = 200
ROUNDS = 2
PLAIN_SCRIPT = Path(__file__).with_name("plain_trl.py")


def plain_trl_seconds(model_dir: Path, train_file: Path, work: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(PLAIN_SCRIPT), str(model_dir), str(train_file), str(work), str(STEPS)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


async def tuneloop_seconds(
    nats_url: str, model_dir: Path, data: bytes, home: Path
) -> tuple[float, float]:
    """Seconds from command to completion, and the last reported tokens per second."""
    settings = TrainerSettings(
        home=home,
        nats_url=nats_url,
        subject_prefix=f"bench{uuid.uuid4().hex[:8]}",
        database_url=f"sqlite+aiosqlite:///{home / 'db.sqlite'}",
        torch_threads=1,
    )
    await migrate_to_head(settings.resolved_database_url())
    service = assemble(DEFINITION, settings)
    subjects = Subjects(settings.subject_prefix)
    done = asyncio.Event()
    rates: list[float] = []
    router = NatsRouter()

    @event_subscriber(router, subjects, "bench", JobCompleted)
    async def on_completed(event: JobCompleted) -> None:
        done.set()

    @event_subscriber(router, subjects, "bench", JobProgressed)
    async def on_progress(event: JobProgressed) -> None:
        if event.tokens_per_second:
            rates.append(event.tokens_per_second)

    service.broker.include_router(router)
    await start_messaging(service)
    try:
        training_file = await service.context.artifacts.put_bytes(data)
        hyperparameters = Hyperparameters(
            max_steps=STEPS,
            batch_size=16,
            learning_rate=1e-2,
            lora_r=16,
            lora_alpha=32,
            lora_dropout=0.0,
            max_seq_length=256,
        )
        started = time.perf_counter()
        await Bus(service.broker, subjects).send_command(
            CreateJob(
                job_id="bench",
                base_model=str(model_dir),
                training_file=training_file.sha256,
                hyperparameters=hyperparameters,
            )
        )
        await asyncio.wait_for(done.wait(), 900)
        return time.perf_counter() - started, (rates[-1] if rates else 0.0)
    finally:
        await stop_messaging(service)


async def run_training_benchmark() -> Comparison:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        nats = EmbeddedNats(root / "nats")
        nats.start()
        try:
            model_dir = build_tiny_llama(root / "tiny-llama")
            rows, _ = split(400, 0)
            train_file = root / "train.jsonl"
            train_file.write_bytes(jsonl(rows))
            ours, peer, rates = [], [], []
            for round_number in range(ROUNDS):
                peer.append(plain_trl_seconds(model_dir, train_file, root / f"plain{round_number}"))
                seconds, rate = await tuneloop_seconds(
                    nats.url, model_dir, jsonl(rows), root / f"home{round_number}"
                )
                ours.append(seconds)
                rates.append(rate)
        finally:
            nats.stop()
    print(f"training: CPU tokens/s reported by tuneloop: {max(rates):,.0f}", file=sys.stderr)
    return Comparison(
        name="training",
        metric=f"wall seconds for {STEPS} LoRA steps on the tiny Llama (best of {ROUNDS}), CPU",
        ours_label="tuneloop job (command → job.completed)",
        ours=min(ours),
        peer_label="plain TRL script",
        peer=min(peer),
        higher_is_better=False,
    )


__all__ = ["run_training_benchmark"]
