"""The openai backend: the job runs in OpenAI's fine-tuning service (being wound down by
OpenAI), driven through the official SDK, its status and events relayed as our events."""

import asyncio
import contextlib
import json
from typing import Any

from contracts.envelope import utc_now
from contracts.events.jobs import JobEvent, JobProgressed, JobStarted
from libs.artifacts import IntegrityError, LocalArtifactStore
from services.trainer.lifecycle import completed_event
from services.trainer.runner import JobRun
from services.trainer.tables import TrainerJob

OPENAI_HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")


class OpenAIJobRun(JobRun):
    """Upload the file, create the remote job (once), poll it until it ends."""

    remote_id: str | None = None
    last_event_id: str | None = None
    openai: Any = None

    def client(self) -> Any:
        from openai import AsyncOpenAI

        if self.openai is not None:
            return self.openai
        key = self.settings.openai_api_key
        if key is None:
            raise RemoteProblem(
                "openai_not_configured",
                "the openai backend needs TUNELOOP_OPENAI_API_KEY (and TUNELOOP_OPENAI_BASE_URL "
                "for a compatible service); set it on the trainer or choose backend trl",
            )
        self.openai = AsyncOpenAI(
            api_key=key.get_secret_value(), base_url=self.settings.openai_base_url, max_retries=2
        )
        return self.openai

    async def run(self) -> None:
        try:
            client = self.client()
            self.remote_id = self.job.remote_job_id or await self.create_remote(client)
            await self.follow(client)
        except RemoteProblem as problem:
            await self.settle_failure(problem.code, problem.message)
        except Exception as exc:
            await self.settle_failure("openai_error", f"{type(exc).__name__}: {exc}"[:1000])
        finally:
            if self.heartbeat is not None:
                self.heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.heartbeat
            if self.openai is not None:
                await self.openai.close()
        await self.settle_exit()

    async def create_remote(self, client: Any) -> str:
        file_id = await upload_training_file(client, self.context.artifacts, self.job.training_file)
        hp = {k: v for k, v in self.job.hyperparameters.items() if k in OPENAI_HYPERPARAMETERS}
        remote = await client.fine_tuning.jobs.create(
            model=self.job.base_model,
            training_file=file_id,
            hyperparameters=hp,
            suffix=self.job.suffix,
            seed=int(self.job.hyperparameters.get("seed", 0)),
        )
        remote_id = str(remote.id)

        def started(job: TrainerJob) -> JobEvent:
            job.status = "running"
            job.remote_job_id = remote_id
            job.started_at = job.started_at or utc_now()
            return JobStarted(
                job_id=job.id,
                tenant=job.tenant,
                worker=self.worker,
                backend="openai",
                attempt=max(job.attempts, 1),
            )

        await self.updates.apply(self.job_id, started, only_owner=self.worker)
        self.heartbeat = asyncio.create_task(self.keep_lease(), name=f"lease-{self.job_id}")
        return remote_id

    async def follow(self, client: Any) -> None:
        if self.heartbeat is None:
            self.heartbeat = asyncio.create_task(self.keep_lease(), name=f"lease-{self.job_id}")
        while not (self.settled or self.lost_lease):
            remote = await client.fine_tuning.jobs.retrieve(self.remote_id)
            await self.relay_events(client)
            if remote.status == "succeeded":
                await self.complete(remote)
            elif remote.status == "failed":
                error = remote.error
                await self.settle_failure(
                    f"openai_{getattr(error, 'code', None) or 'failed'}",
                    getattr(error, "message", None) or "OpenAI failed it",
                )
            elif remote.status == "cancelled":
                await self.settle_cancelled()
            else:
                await asyncio.sleep(self.settings.openai_poll_seconds)

    async def relay_events(self, client: Any) -> None:
        page = await client.fine_tuning.jobs.list_events(self.remote_id, limit=100)
        fresh = []
        for event in page.data:  # newest first
            if event.id == self.last_event_id:
                break
            fresh.append(event)
        for event in reversed(fresh):
            self.last_event_id = event.id
            data = event.data or {}
            if event.type == "metrics" and "step" in data:
                await self.updates.event(
                    JobProgressed(
                        job_id=self.job_id,
                        tenant=self.job.tenant,
                        step=int(data["step"]),
                        total_steps=int(data.get("total_steps", data["step"])),
                        epoch=float(data.get("epoch", 0.0)),
                        train_loss=data.get("train_loss"),
                        validation_loss=data.get("valid_loss"),
                    )
                )

    async def complete(self, remote: Any) -> None:
        record = {
            "provider": "openai",
            "remote_job_id": remote.id,
            "fine_tuned_model": remote.fine_tuned_model,
            "result_files": remote.result_files,
        }
        info = await self.context.artifacts.put_bytes(json.dumps(record, sort_keys=True).encode())
        tokens = int(remote.trained_tokens or 0)

        def completed(job: TrainerJob) -> JobEvent:
            job.status = "succeeded"
            job.finished_at = utc_now()
            job.adapter_sha256 = info.sha256
            job.trained_tokens = tokens
            job.fine_tuned_model = str(remote.fine_tuned_model)
            job.lease_owner = None
            return completed_event(job, info, wall_seconds=0.0, backend="openai")

        await self.updates.apply(self.job_id, completed, only_owner=self.worker)
        self.settled = True

    async def request_cancel(self) -> None:
        self.cancelling = True
        if self.remote_id:
            await self.client().fine_tuning.jobs.cancel(self.remote_id)

    async def stop_process(self) -> None:
        return None


async def upload_training_file(client: Any, store: LocalArtifactStore, sha256: str) -> str:
    """Upload a stored training file to OpenAI as it is read, in pieces (never whole in
    memory), with its length (not a chunked upload); a retry reads it again from the start.
    A stored file whose bytes no longer match their hash fails with ``corrupt_file``."""
    training_file = await asyncio.to_thread(store.open_binary, sha256)
    with training_file:
        try:
            upload = await client.files.create(
                file=("train.jsonl", training_file), purpose="fine-tune"
            )
        except Exception as exc:
            corruption = integrity_error_in(exc)
            if corruption is None:
                raise
            raise RemoteProblem("corrupt_file", f"training_file: {corruption}") from None
    return str(upload.id)


def integrity_error_in(exc: BaseException) -> IntegrityError | None:
    """The corrupt blob behind an SDK error (it reports a failed body as a connection error)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, IntegrityError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class RemoteProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


__all__ = ["OpenAIJobRun", "RemoteProblem", "upload_training_file"]
