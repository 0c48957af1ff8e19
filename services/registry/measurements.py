"""What other services measure about a version: quality, performance and cost."""

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.events import CostRecorded
from services.registry.tables import CostEntry, ModelVersion

PERFORMANCE_MARKERS = ("latency", "tokens_per_second", "time_to_first_token", "throughput")


def is_performance(metric: str) -> bool:
    return any(marker in metric for marker in PERFORMANCE_MARKERS)


def attach_metrics(row: ModelVersion, metrics: Mapping[str, float]) -> None:
    """Speed metrics go to ``performance_metrics``, everything else to ``quality_metrics``."""
    row.performance_metrics = {
        **row.performance_metrics,
        **{k: v for k, v in metrics.items() if is_performance(k)},
    }
    row.quality_metrics = {
        **row.quality_metrics,
        **{k: v for k, v in metrics.items() if not is_performance(k)},
    }


async def version_costed_by(session: AsyncSession, event: CostRecorded) -> ModelVersion | None:
    """The version a cost entry belongs to: its job's (training) or its serving name's."""
    column = (
        col(ModelVersion.job_id) if event.kind == "training" else col(ModelVersion.serving_name)
    )
    key = event.reference_id if event.kind == "training" else event.serving_name
    if key is None:
        return None
    query = select(ModelVersion).where(col(ModelVersion.tenant) == event.tenant, column == key)
    return (await session.execute(query)).scalar_one_or_none()


async def record_cost(session: AsyncSession, event: CostRecorded) -> None:
    """Keep the newest amount of each ledger entry, then total the version's cost by kind."""
    version = await version_costed_by(session, event)
    if version is None or version.id is None:
        return
    entry = await session.get(CostEntry, (event.tenant, event.entry_id))
    if entry is None:
        entry = CostEntry(
            tenant=event.tenant,
            entry_id=event.entry_id,
            version_id=version.id,
            kind=event.kind,
            amount_usd=str(event.amount_usd),
        )
        session.add(entry)
    entry.amount_usd = str(event.amount_usd)
    entry.requests = event.requests
    await session.flush()
    rows = await session.execute(
        select(CostEntry.kind, CostEntry.amount_usd, CostEntry.requests).where(  # type: ignore[call-overload]
            col(CostEntry.version_id) == version.id
        )
    )
    totals: dict[str, Decimal] = {}
    requests = 0
    for kind, amount, count in rows:
        totals[kind] = totals.get(kind, Decimal(0)) + Decimal(amount)
        requests += count
    version.cost = {
        **{f"{kind}_usd": float(total) for kind, total in totals.items()},
        "inference_requests": float(requests),
    }


__all__ = ["attach_metrics", "record_cost"]
