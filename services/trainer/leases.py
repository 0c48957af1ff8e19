"""Which worker runs a job, until when: claimed atomically, renewed by heartbeats."""

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import utc_now
from services.trainer.tables import TrainerJob

ACTIVE = ("queued", "running")


def expires(seconds: float) -> datetime:
    return utc_now() + timedelta(seconds=seconds)


async def claim(session: AsyncSession, job_id: str, worker: str, seconds: float) -> bool:
    """Take the job if nobody holds a live lease on it; count the attempt."""
    now = utc_now()
    result = await session.execute(
        update(TrainerJob)
        .where(
            col(TrainerJob.id) == job_id,
            col(TrainerJob.status).in_(ACTIVE),
            or_(col(TrainerJob.lease_owner).is_(None), col(TrainerJob.lease_expires_at) < now),
        )
        .values(
            lease_owner=worker,
            lease_expires_at=expires(seconds),
            attempts=TrainerJob.attempts + 1,
        )
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def renew(session: AsyncSession, job_id: str, worker: str, seconds: float) -> bool:
    """Extend our lease; False when another worker has taken the job over."""
    result = await session.execute(
        update(TrainerJob)
        .where(col(TrainerJob.id) == job_id, col(TrainerJob.lease_owner) == worker)
        .values(lease_expires_at=expires(seconds))
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def claimable(session: AsyncSession, limit: int) -> list[TrainerJob]:
    """Queued jobs nobody holds, and jobs whose worker stopped renewing, oldest first."""
    now = utc_now()
    rows = await session.execute(
        select(TrainerJob)
        .where(
            col(TrainerJob.status).in_(ACTIVE),
            or_(col(TrainerJob.lease_owner).is_(None), col(TrainerJob.lease_expires_at) < now),
        )
        .order_by(col(TrainerJob.created_at))
        .limit(limit)
    )
    return list(rows.scalars().all())


__all__ = ["claim", "claimable", "renew"]
