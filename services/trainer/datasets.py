"""Dataset versions the exporter announced, so a job can name a dataset instead of its file,
and the jobs that asked the exporter for their dataset continue when it is announced."""

from faststream.nats import NatsRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.commands import CreateJob
from contracts.events import DatasetExported, DatasetExportFailed
from libs.messaging import claim_message, event_subscriber
from libs.runtime import ServiceContext
from services.trainer.handlers import validate_and_queue
from services.trainer.lifecycle import JobUpdates, command_from_job, fail
from services.trainer.tables import TrainerDataset, TrainerJob
from services.trainer.worker import Worker

CONSUMER = "trainer:dataset.exported"


async def remember_dataset(session: AsyncSession, event: DatasetExported) -> None:
    await session.merge(
        TrainerDataset(
            tenant=event.tenant,
            dataset=event.dataset,
            version=event.version,
            artifact_sha256=event.artifact_sha256,
            train_rows=event.train_rows,
            validation_rows=event.validation_rows,
            token_count=event.token_count,
            base_model=event.base_model,
            exported_at=event.time,
        )
    )


async def find_dataset(
    session: AsyncSession, tenant: str, dataset: str, version: int
) -> TrainerDataset | None:
    return await session.get(TrainerDataset, (tenant, dataset, version))


async def waiting_job(session: AsyncSession, export_id: str | None) -> TrainerJob | None:
    """The job that asked for this export and still waits for it."""
    if export_id is None:
        return None
    statement = select(TrainerJob).where(
        col(TrainerJob.export_id) == export_id, col(TrainerJob.status) == "validating_files"
    )
    return (await session.execute(statement.with_for_update())).scalars().first()


async def attach_dataset(session: AsyncSession, event: DatasetExported) -> CreateJob | None:
    """Give the waiting job its dataset; the command to continue it with, if there is one."""
    job = await waiting_job(session, event.dataset_id)
    if job is None or job.training_file:
        return None
    job.training_file = event.artifact_sha256
    job.dataset = event.dataset
    job.dataset_version = event.version
    return command_from_job(job)


async def export_failed(context: ServiceContext, event: DatasetExportFailed) -> None:
    """The export a job asked for produced nothing: the job fails with the exporter's reason."""
    async with context.database.transaction() as session:
        job = await waiting_job(session, event.command_id)
    if job is None:
        return
    message = (
        f"the dataset export this job asked for failed: {event.message} Add or rate more "
        "examples, or loosen the filters, then create the job again"
    )
    await JobUpdates(context).apply(
        job.id,
        lambda row: (
            fail(row, "export_failed", message) if row.status == "validating_files" else None
        ),
    )


def dataset_router(context: ServiceContext, worker: Worker) -> NatsRouter:
    router = NatsRouter()

    @event_subscriber(router, context.bus.subjects, "trainer", DatasetExported)
    async def on_exported(event: DatasetExported) -> None:
        waiting = None
        async with context.database.transaction() as session:
            if await claim_message(session, CONSUMER, event.id):
                await remember_dataset(session, event)
                waiting = await attach_dataset(session, event)
        if waiting is not None:
            await validate_and_queue(context, worker, waiting)

    @event_subscriber(router, context.bus.subjects, "trainer", DatasetExportFailed)
    async def on_export_failed(event: DatasetExportFailed) -> None:
        await export_failed(context, event)

    return router


__all__ = ["dataset_router", "find_dataset", "remember_dataset"]
