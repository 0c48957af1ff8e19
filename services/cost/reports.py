"""Read side of the ledger: pages of entries, summaries by group, a daily series for charts.

Sums are taken in Python over :class:`~decimal.Decimal` values, so they are exact on SQLite
(which stores money as text) as on PostgreSQL.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.cost import (
    CostSummary,
    DailyCosts,
    DailySeries,
    LedgerEntry,
    LedgerPage,
    SummaryGroup,
    SummaryRow,
)
from services.cost.periods import as_utc
from services.cost.tables import LedgerRow


def ledger_query(
    tenant: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
    serving_name: str | None = None,
    model: str | None = None,
) -> Select[LedgerRow]:
    query = select(LedgerRow)
    if tenant is not None:
        query = query.where(col(LedgerRow.tenant) == tenant)
    if since is not None:
        query = query.where(col(LedgerRow.period_start) >= since)
    if until is not None:
        query = query.where(col(LedgerRow.period_start) < until)
    if kind is not None:
        query = query.where(col(LedgerRow.kind) == kind)
    if serving_name is not None:
        query = query.where(col(LedgerRow.serving_name) == serving_name)
    if model is not None:
        query = query.where(col(LedgerRow.model) == model)
    return query


def entry_of(row: LedgerRow) -> LedgerEntry:
    return LedgerEntry(
        entry_id=row.entry_id,
        tenant=row.tenant,
        kind=row.kind,
        reference_id=row.reference_id,
        model=row.model,
        serving_name=row.serving_name,
        quantity=row.quantity,
        unit=row.unit,
        amount_usd=row.amount_usd,
        requests=row.requests,
        price_version=row.price_version,
        period_start=as_utc(row.period_start),
        period_end=as_utc(row.period_end),
    )


async def ledger_page(
    session: AsyncSession, query: Select[LedgerRow], offset: int, limit: int
) -> LedgerPage:
    rows = list((await session.execute(query.order_by(col(LedgerRow.id)))).scalars())
    page = rows[offset : offset + limit]
    return LedgerPage(
        entries=[entry_of(row) for row in page],
        total_usd=sum((row.amount_usd for row in rows), Decimal(0)),
        next_offset=offset + limit if offset + limit < len(rows) else None,
    )


def group_key(row: LedgerRow, group_by: SummaryGroup) -> str:
    if group_by == "day":
        return as_utc(row.period_start).date().isoformat()
    value = getattr(row, group_by)
    return str(value) if value is not None else "-"


async def summary(
    session: AsyncSession,
    query: Select[LedgerRow],
    group_by: SummaryGroup,
    since: datetime | None,
    until: datetime | None,
) -> CostSummary:
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    requests: dict[str, int] = defaultdict(int)
    tokens: dict[str, int] = defaultdict(int)
    entries: dict[str, int] = defaultdict(int)
    for row in (await session.execute(query)).scalars():
        key = group_key(row, group_by)
        amounts[key] += row.amount_usd
        requests[key] += row.requests
        tokens[key] += (
            (int(row.quantity) if row.unit == "tokens" and row.kind == "training" else 0)
            + row.prompt_tokens
            + row.completion_tokens
        )
        entries[key] += 1
    rows = [
        SummaryRow(
            group=key,
            amount_usd=amounts[key],
            requests=requests[key],
            tokens=tokens[key],
            entries=entries[key],
        )
        for key in sorted(amounts)
    ]
    return CostSummary(
        group_by=group_by,
        since=since,
        until=until,
        rows=rows,
        total_usd=sum(amounts.values(), Decimal(0)),
    )


async def daily_costs(session: AsyncSession, tenant: str, first: date, last: date) -> DailyCosts:
    """Training and inference cost per day from ``first`` to ``last`` (inclusive)."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    query = ledger_query(tenant, start, end)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    by_kind: dict[str, dict[date, Decimal]] = {
        "training": defaultdict(Decimal),
        "inference": defaultdict(Decimal),
    }
    for row in (await session.execute(query)).scalars():
        by_kind.setdefault(row.kind, defaultdict(Decimal))[as_utc(row.period_start).date()] += (
            row.amount_usd
        )
    return DailyCosts(
        days=days,
        series=[
            DailySeries(name=kind, values=[values.get(day, Decimal(0)) for day in days])
            for kind, values in by_kind.items()
        ],
    )


__all__ = ["daily_costs", "entry_of", "ledger_page", "ledger_query", "summary"]
