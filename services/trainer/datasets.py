"""Dataset versions the exporter announced, so a job can name a dataset instead of its file."""

from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import DatasetExported
from libs.messaging import claim_message, event_subscriber
from libs.runtime import ServiceContext
from services.trainer.tables import TrainerDataset

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


def dataset_router(context: ServiceContext) -> NatsRouter:
    router = NatsRouter()

    @event_subscriber(router, context.bus.subjects, "trainer", DatasetExported)
    async def on_exported(event: DatasetExported) -> None:
        async with context.database.transaction() as session:
            if await claim_message(session, CONSUMER, event.id):
                await remember_dataset(session, event)

    return router


__all__ = ["dataset_router", "find_dataset", "remember_dataset"]
