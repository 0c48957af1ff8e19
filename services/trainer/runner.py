"""Run one job in a training process: spawn it, relay its reports as events, keep the lease,
stop it on cancel, and settle the job whatever way the process ends."""

import asyncio
import contextlib
import json
import logging
import shutil
import signal
import sys
from datetime import timedelta
from pathlib import Path

from contracts.envelope import utc_now
from contracts.events.jobs import (
    JobCheckpointed,
    JobEvent,
    JobProgressed,
    JobStarted,
)
from contracts.training import Hyperparameters
from libs.artifacts import restore_directory, store_directory
from libs.runtime import ServiceContext
from libs.supervision.process import die_with_parent
from services.trainer import leases
from services.trainer.lifecycle import JobUpdates, cancel, completed_event, fail
from services.trainer.settings import TrainerSettings
from services.trainer.tables import TrainerJob
from services.trainer.training.spec import Report, TrainingSpec

logger = logging.getLogger("tuneloop.trainer.runner")
STDERR_TAIL = 1500


class JobRun:
    def __init__(
        self, context: ServiceContext, settings: TrainerSettings, worker: str, job: TrainerJob
    ) -> None:
        self.context = context
        self.settings = settings
        self.worker = worker
        self.job_id = job.id
        self.job = job
        self.updates = JobUpdates(context)
        self.process: asyncio.subprocess.Process | None = None
        self.directory = settings.resolved_work_dir() / job.id / f"attempt-{job.attempts}"
        self.cancelling = False
        self.lost_lease = False
        self.settled = False
        self.heartbeat: asyncio.Task[None] | None = None
        self.hyperparameters: dict[str, object] = {}
        self.backend = "trl"

    async def run(self) -> None:
        try:
            spec = await self.prepare()
            await self.start(spec)
            await self.relay()
        except Exception as exc:
            logger.exception("job %s failed in the worker", self.job_id)
            await self.settle_failure("worker_error", f"{type(exc).__name__}: {exc}")
        finally:
            if self.heartbeat is not None:
                self.heartbeat.cancel()
            await self.stop_process()
        await self.settle_exit()

    async def prepare(self) -> TrainingSpec:
        self.directory.mkdir(parents=True, exist_ok=True)
        store = self.context.artifacts
        train = await store.fetch_to(self.job.training_file, self.directory / "train.jsonl")
        validation = None
        if self.job.validation_file:
            validation = await store.fetch_to(
                self.job.validation_file, self.directory / "validation.jsonl"
            )
        resume = None
        if self.job.last_checkpoint_sha256:
            resume = await restore_directory(
                store, self.job.last_checkpoint_sha256, self.directory / "resume"
            )
        spec = TrainingSpec(
            job_id=self.job_id,
            base_model=self.job.base_model,
            models_dir=self.settings.resolved_models_dir(),
            train_file=train,
            validation_file=validation,
            hyperparameters=Hyperparameters.model_validate(self.job.hyperparameters),
            backend=self.job.backend,
            method=self.job.method,
            output_dir=self.directory,
            resume_from=resume,
            export_merged=self.job.export_merged,
            progress_interval_seconds=self.settings.progress_interval_seconds,
            torch_threads=self.settings.torch_threads,
        )
        (self.directory / "spec.json").write_text(spec.model_dump_json())
        return spec

    async def start(self, spec: TrainingSpec) -> None:
        resumed = self.job.last_checkpoint_step if spec.resume_from else None

        def running(job: TrainerJob) -> JobEvent:
            job.status = "running"
            job.started_at = job.started_at or utc_now()
            return JobStarted(
                job_id=job.id,
                tenant=job.tenant,
                worker=self.worker,
                backend=job.backend,
                attempt=max(job.attempts, 1),
                resumed_from_step=resumed,
            )

        await self.updates.apply(self.job_id, running, only_owner=self.worker)
        log = (self.directory / "training.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.trainer.training",
            str(self.directory / "spec.json"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            preexec_fn=die_with_parent,
            limit=1 << 20,
        )
        log.close()
        self.heartbeat = asyncio.create_task(self.keep_lease(), name=f"lease-{self.job_id}")

    async def relay(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                report = Report.model_validate(json.loads(line))
                await self.handle(report)
        await self.process.wait()

    async def handle(self, report: Report) -> None:
        if self.lost_lease or self.settled:
            return
        if report.kind == "validated":
            await self.on_validated(report)
        elif report.kind == "progress":
            fields = {
                k: report.field(k)
                for k in JobProgressed.model_fields
                if k in (report.model_extra or {})
            }
            await self.on_progress(
                JobProgressed(job_id=self.job_id, tenant=self.job.tenant, **fields)
            )
        elif report.kind == "checkpoint":
            await self.on_checkpoint(report)
        elif report.kind == "completed":
            await self.on_completed(report)
        elif report.kind == "cancelled":
            await self.settle_cancelled()
        elif report.kind == "failed":
            await self.settle_failure(
                report.field("code", "training_error"), report.field("message", "training failed")
            )

    async def on_progress(self, event: JobProgressed) -> None:
        def progressed(job: TrainerJob) -> JobEvent:
            if event.eta_seconds is not None:
                job.estimated_finish_at = utc_now() + timedelta(seconds=event.eta_seconds)
            return event

        await self.updates.apply(self.job_id, progressed, only_owner=self.worker)

    async def on_validated(self, report: Report) -> None:
        self.hyperparameters = report.field("hyperparameters", {})
        self.backend = report.field("backend", "trl")
        if report.field("notice"):
            logger.warning("job %s: %s", self.job_id, report.field("notice"))

        def estimate(job: TrainerJob) -> None:
            job.estimated_tokens = int(report.field("estimated_tokens", 0))
            return None

        await self.updates.apply(self.job_id, estimate, only_owner=self.worker)

    async def on_checkpoint(self, report: Report) -> None:
        info = await store_directory(self.context.artifacts, Path(report.field("path")))
        step = int(report.field("step"))

        def checkpointed(job: TrainerJob) -> JobEvent:
            job.last_checkpoint_sha256 = info.sha256
            job.last_checkpoint_step = step
            return JobCheckpointed(
                job_id=job.id,
                tenant=job.tenant,
                step=step,
                artifact_sha256=info.sha256,
                train_loss=report.field("train_loss"),
                validation_loss=report.field("validation_loss"),
            )

        await self.updates.apply(self.job_id, checkpointed, only_owner=self.worker)

    async def on_completed(self, report: Report) -> None:
        info = await store_directory(self.context.artifacts, Path(report.field("adapter_dir")))
        merged = None
        if report.field("merged_dir"):
            merged = await store_directory(self.context.artifacts, Path(report.field("merged_dir")))
        metrics = {k: float(v) for k, v in (report.field("metrics") or {}).items()}
        tokens = int(report.field("trained_tokens", 0))
        wall = float(report.field("wall_seconds", 0.0))

        def completed(job: TrainerJob) -> JobEvent:
            job.status = "succeeded"
            job.finished_at = utc_now()
            job.adapter_sha256 = info.sha256
            job.merged_model_sha256 = merged.sha256 if merged else None
            job.trained_tokens = tokens
            job.metrics = metrics
            job.fine_tuned_model = fine_tuned_name(job)
            job.lease_owner = None
            return completed_event(
                job,
                info,
                metrics=metrics,
                wall_seconds=wall,
                hyperparameters=self.hyperparameters,
                backend=self.backend,
                merged_model_sha256=job.merged_model_sha256,
            )

        await self.updates.apply(self.job_id, completed, only_owner=self.worker)
        self.settled = True

    async def settle_failure(self, code: str, message: str) -> None:
        if self.settled or self.lost_lease:
            return
        await self.updates.apply(
            self.job_id, lambda job: fail(job, code, message), only_owner=self.worker
        )
        self.settled = True

    async def settle_cancelled(self) -> None:
        if self.settled or self.lost_lease:
            return
        await self.updates.apply(self.job_id, cancel, only_owner=self.worker)
        self.settled = True

    async def settle_exit(self) -> None:
        """The process ended without a final report: cancelled, or it crashed."""
        if self.settled or self.lost_lease:
            return
        if self.cancelling:
            await self.settle_cancelled()
            return
        code = self.process.returncode if self.process else None
        await self.settle_failure(
            "training_crashed",
            f"the training process exited with code {code} before finishing; its last output "
            f"was: {self.stderr_tail()}",
        )

    def stderr_tail(self) -> str:
        log = self.directory / "training.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return text[-STDERR_TAIL:].strip() or "(nothing)"

    async def keep_lease(self) -> None:
        interval = min(self.settings.lease_seconds / 4, 1.0)
        while True:
            await asyncio.sleep(interval)
            if self.settled:
                return
            async with self.context.database.transaction() as session:
                held = await leases.renew(
                    session, self.job_id, self.worker, self.settings.lease_seconds
                )
                job = await session.get(TrainerJob, self.job_id)
            if not held:
                logger.warning("job %s: lease lost to another worker; stopping", self.job_id)
                self.lost_lease = True
                await self.stop_process()
                return
            if job is not None and job.cancel_requested and not self.cancelling:
                await self.request_cancel()

    async def request_cancel(self) -> None:
        """Ask the process to stop at its next step; kill it if it has not after the grace."""
        self.cancelling = True
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGUSR1)
        try:
            await asyncio.wait_for(process.wait(), self.settings.cancel_grace_seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    async def stop_process(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def fine_tuned_name(job: TrainerJob) -> str:
    base = Path(job.base_model).name or job.base_model
    return f"ft:{base}:{job.suffix or job.model_name or 'tuneloop'}:{job.id}"


def clear_work(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


__all__ = ["JobRun", "fine_tuned_name"]
