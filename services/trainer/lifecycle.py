"""Job state changes, each committed together with the event that reports it."""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.commands import CreateJob, ExportDataset
from contracts.envelope import utc_now
from contracts.events.jobs import JobCancelled, JobCompleted, JobCreated, JobEvent, JobFailed
from contracts.fields import ErrorDetail
from contracts.training import TERMINAL_STATUSES, Hyperparameters
from libs.artifacts import ArtifactInfo
from libs.messaging import add_to_outbox
from libs.runtime import ServiceContext
from services.trainer.history import record_event
from services.trainer.tables import TrainerJob

EXPORT_NAMESPACE = uuid.UUID("5f2b8c1e-6d1a-4f0e-9a57-3c2d7e8b9a10")


class JobUpdates:
    """Apply a change to a job row and record its event in one transaction."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    async def apply(
        self,
        job_id: str,
        change: Callable[[TrainerJob], JobEvent | None],
        *,
        only_owner: str | None = None,
    ) -> TrainerJob | None:
        """``change`` edits the row and returns the event to record (or None for none)."""
        async with self.context.database.transaction() as session:
            job = await session.get(TrainerJob, job_id, with_for_update=True)
            if job is None or (only_owner is not None and job.lease_owner != only_owner):
                return None
            event = change(job)
            if event is not None:
                await record_event(session, self.context.bus, event)
        self.context.outbox.notify()
        return job

    async def event(self, event: JobEvent) -> None:
        async with self.context.database.transaction() as session:
            await record_event(session, self.context.bus, event)
        self.context.outbox.notify()


def new_job(command: CreateJob) -> TrainerJob:
    return TrainerJob(
        id=command.job_id,
        tenant=command.tenant,
        owner=command.owner,
        status="validating_files",
        base_model=command.base_model,
        training_file=command.training_file or "",
        export_id=export_id_of(command),
        validation_file=command.validation_file,
        dataset=command.dataset,
        dataset_version=command.dataset_version,
        backend=command.backend,
        method=command.method,
        hyperparameters=command.hyperparameters.model_dump(mode="json"),
        model_name=registry_model_name(command),
        suffix=command.suffix,
        export_merged=command.export_merged,
    )


def export_id_of(command: CreateJob) -> str | None:
    """Id of the export a job asks for: one per job, so a redelivered command exports once."""
    if command.export is None:
        return None
    return uuid.uuid5(EXPORT_NAMESPACE, command.job_id).hex


def export_command(command: CreateJob) -> ExportDataset:
    """The exporter's command for a job that exports its dataset first."""
    assert command.export is not None
    export = command.export
    return ExportDataset(
        id=export_id_of(command) or "",
        tenant=command.tenant,
        name=export.name,
        filters=export.filters,
        test_fraction=export.test_fraction,
        min_examples=export.min_examples,
    )


def command_from_job(job: TrainerJob) -> CreateJob:
    """The creating command as it would be with the job's training file known."""
    return CreateJob(
        job_id=job.id,
        tenant=job.tenant,
        base_model=job.base_model,
        training_file=job.training_file,
        validation_file=job.validation_file,
        dataset=job.dataset,
        dataset_version=job.dataset_version,
        backend=job.backend,
        method=job.method,
        hyperparameters=Hyperparameters.model_validate(job.hyperparameters),
        model_name=job.model_name,
        suffix=job.suffix,
        export_merged=job.export_merged,
        owner=job.owner,
    )


def registry_model_name(command: CreateJob) -> str:
    """The registry model the job's adapter will be a version of."""
    name = command.export.name if command.export else None
    return command.model_name or command.dataset or name or command.suffix or command.job_id


def created_event(command: CreateJob) -> JobCreated:
    fields: dict[str, Any] = command.model_dump(
        exclude={"id", "type", "time", "schema_version", "job_id", "tenant", "model_name"}
    )
    return JobCreated(
        job_id=command.job_id,
        tenant=command.tenant,
        model_name=registry_model_name(command),
        **fields,
    )


def completed_event(job: TrainerJob, adapter: ArtifactInfo, **details: Any) -> JobCompleted:
    """``job.completed`` for a succeeded job; ``details`` adds metrics, wall time, backend…"""
    assert job.fine_tuned_model is not None
    return JobCompleted(
        job_id=job.id,
        tenant=job.tenant,
        base_model=job.base_model,
        model_name=job.model_name or job.id,
        fine_tuned_model=job.fine_tuned_model,
        dataset=job.dataset,
        dataset_version=job.dataset_version,
        training_file=job.training_file,
        adapter_sha256=adapter.sha256,
        adapter_uri=adapter.uri,
        adapter_bytes=adapter.size,
        trained_tokens=job.trained_tokens or 0,
        **details,
    )


async def insert_job(session: AsyncSession, context: ServiceContext, command: CreateJob) -> bool:
    """Create the job unless it exists already (a redelivered command)."""
    if await session.get(TrainerJob, command.job_id) is not None:
        return False
    session.add(new_job(command))
    await session.flush()
    await record_event(session, context.bus, created_event(command))
    if command.export is not None:
        add_to_outbox(session, context.bus, export_command(command))
    return True


def fail(job: TrainerJob, code: str, message: str) -> JobFailed:
    job.status = "failed"
    job.error_code = code
    job.error_message = message
    job.finished_at = utc_now()
    job.lease_owner = None
    return JobFailed(
        job_id=job.id, tenant=job.tenant, error=ErrorDetail(code=code, message=message)
    )


def cancel(job: TrainerJob) -> JobCancelled:
    job.status = "cancelled"
    job.finished_at = utc_now()
    job.lease_owner = None
    return JobCancelled(
        job_id=job.id, tenant=job.tenant, last_checkpoint_sha256=job.last_checkpoint_sha256
    )


def is_terminal(job: TrainerJob) -> bool:
    return job.status in TERMINAL_STATUSES


__all__ = [
    "JobUpdates",
    "cancel",
    "command_from_job",
    "created_event",
    "export_command",
    "fail",
    "insert_job",
    "is_terminal",
    "new_job",
]
