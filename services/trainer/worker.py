"""A trainer worker: takes queued jobs and jobs whose worker died, up to its capacity.

Jobs reach the database through the work-queue command handler; the database lease makes sure
each job runs on exactly one worker, wherever the command was handled.
"""

import asyncio
import os
import socket
import uuid

from libs.background import BackgroundLoop
from libs.runtime import ServiceContext
from services.trainer import leases
from services.trainer.lifecycle import JobUpdates, fail
from services.trainer.openai_backend import OpenAIJobRun
from services.trainer.runner import JobRun
from services.trainer.settings import TrainerSettings
from services.trainer.tables import TrainerJob


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(self, context: ServiceContext, settings: TrainerSettings) -> None:
        self.context = context
        self.settings = settings
        self.id = new_worker_id()
        self.runs: dict[str, JobRun] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._scheduler = BackgroundLoop("trainer-scheduler", self.take_jobs, self.scan_seconds)

    @property
    def scan_seconds(self) -> float:
        return min(self.settings.lease_seconds / 3, 2.0)

    def wake(self) -> None:
        self._scheduler.wake()

    async def start(self) -> None:
        self._scheduler.start()

    async def stop(self) -> None:
        await self._scheduler.stop()
        for run in list(self.runs.values()):
            await run.stop_process()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def take_jobs(self) -> None:
        free = self.settings.max_concurrent_jobs - len(self.runs)
        if free <= 0:
            return
        async with self.context.database.session() as session:
            candidates = await leases.claimable(session, free * 4)
        for job in candidates:
            if len(self.runs) >= self.settings.max_concurrent_jobs:
                return
            async with self.context.database.transaction() as session:
                if not await leases.claim(session, job.id, self.id, self.settings.lease_seconds):
                    continue
                claimed = await session.get(TrainerJob, job.id)
            assert claimed is not None
            if claimed.attempts > self.settings.max_attempts:
                await self.give_up(claimed)
                continue
            if claimed.cancel_requested:
                from services.trainer.lifecycle import cancel

                await JobUpdates(self.context).apply(claimed.id, cancel, only_owner=self.id)
                continue
            self.launch(claimed)

    async def give_up(self, job: TrainerJob) -> None:
        message = (
            f"the trainer worker running this job stopped {job.attempts - 1} time(s) and the job "
            f"ran out of attempts (TUNELOOP_TRAINER_MAX_ATTEMPTS={self.settings.max_attempts}); "
            "look at the trainer logs, then create the job again"
        )
        await JobUpdates(self.context).apply(
            job.id, lambda row: fail(row, "worker_lost", message), only_owner=self.id
        )

    def launch(self, job: TrainerJob) -> None:
        kind = OpenAIJobRun if job.backend == "openai" else JobRun
        run = kind(self.context, self.settings, self.id, job)
        self.runs[job.id] = run
        task = asyncio.create_task(self._run(run), name=f"job-{job.id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, run: JobRun) -> None:
        try:
            await run.run()
        finally:
            self.runs.pop(run.job_id, None)
            self.wake()

    async def cancel_local(self, job_id: str) -> None:
        run = self.runs.get(job_id)
        if run is not None and not run.cancelling:
            await run.request_cancel()


__all__ = ["Worker", "new_worker_id"]
