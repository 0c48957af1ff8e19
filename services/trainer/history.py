"""Record a job event: its row in the job's history and the outbox, in the caller's transaction."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.events.jobs import JobEvent
from libs.messaging import Bus, add_to_outbox
from services.trainer.tables import TrainerJobEvent


async def record_event(session: AsyncSession, bus: Bus, event: JobEvent) -> None:
    last = await session.execute(
        select(func.max(col(TrainerJobEvent.sequence))).where(
            col(TrainerJobEvent.job_id) == event.job_id
        )
    )
    session.add(
        TrainerJobEvent(
            message_id=event.id,
            job_id=event.job_id,
            sequence=(last.scalar() or 0) + 1,
            type=event.type,
            time=event.time,
            payload=event.model_dump(mode="json"),
        )
    )
    add_to_outbox(session, bus, event)


async def job_events(session: AsyncSession, job_id: str) -> list[TrainerJobEvent]:
    rows = await session.execute(
        select(TrainerJobEvent)
        .where(col(TrainerJobEvent.job_id) == job_id)
        .order_by(col(TrainerJobEvent.sequence))
    )
    return list(rows.scalars().all())


__all__ = ["job_events", "record_event"]
