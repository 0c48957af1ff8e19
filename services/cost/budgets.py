"""Budgets: limits per tenant, kind of spend or job, kept current with every ledger change.

Crossing the alert threshold publishes ``budget.threshold_reached`` and crossing the limit
publishes ``budget.exceeded``, each once per budget and period. Before work starts, other
services ask ``budget.check``; the HTTP check answers 429 when the work would exceed a budget.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.cost import BudgetCreate, BudgetPublic
from contracts.envelope import utc_now
from contracts.events import BudgetExceeded, BudgetThresholdReached
from contracts.money import decimal_text
from contracts.queries import BudgetCheckReply, BudgetStanding
from libs.messaging import Bus, add_to_outbox
from services.cost.errors import InvalidRequest, NotFound
from services.cost.periods import as_utc, period_start
from services.cost.tables import Budget, LedgerRow


@dataclass(frozen=True)
class Spend:
    """An amount added to the ledger, and what it was for."""

    tenant: str
    kind: str
    job_id: str | None
    amount: Decimal
    moment: datetime


def applies_to(budget: Budget, kind: str, job_id: str | None) -> bool:
    if budget.scope == "tenant":
        return True
    if budget.scope == "job":
        return kind == "training" and job_id is not None and job_id == budget.job_id
    return budget.scope == kind


def scope_label(budget: Budget) -> str:
    return f"job:{budget.job_id}" if budget.scope == "job" else budget.scope


def spent_now(budget: Budget, now: datetime) -> Decimal:
    current = period_start(budget.period, now)
    if budget.spent_period_start is None or as_utc(budget.spent_period_start) != current:
        return Decimal(0)
    return budget.spent_usd


async def budgets_of(session: AsyncSession, tenant: str, lock: bool = False) -> list[Budget]:
    query = select(Budget).where(col(Budget.tenant) == tenant).order_by(col(Budget.id))
    if lock:
        query = query.with_for_update()
    return list((await session.execute(query)).scalars())


def same_period(stored: datetime | None, start: datetime) -> bool:
    return stored is not None and as_utc(stored) == start


def _publish_crossings(session: AsyncSession, bus: Bus, budget: Budget, start: datetime) -> None:
    alert_level = budget.limit_usd * budget.alert_at
    if budget.spent_usd >= alert_level and not same_period(budget.alerted_period, start):
        budget.alerted_period = start
        add_to_outbox(
            session,
            bus,
            BudgetThresholdReached(
                tenant=budget.tenant,
                budget_id=budget.budget_id,
                scope=scope_label(budget),
                period=budget.period,
                period_start=start,
                threshold=budget.alert_at,
                limit_usd=budget.limit_usd,
                spent_usd=budget.spent_usd,
            ),
        )
    if budget.spent_usd >= budget.limit_usd and not same_period(budget.exceeded_period, start):
        budget.exceeded_period = start
        add_to_outbox(
            session,
            bus,
            BudgetExceeded(
                tenant=budget.tenant,
                budget_id=budget.budget_id,
                scope=scope_label(budget),
                period=budget.period,
                period_start=start,
                limit_usd=budget.limit_usd,
                spent_usd=budget.spent_usd,
            ),
        )


async def apply_spend(session: AsyncSession, bus: Bus, spend: Spend) -> None:
    """Add ``spend`` to every budget it counts against; publish the crossings it causes."""
    if spend.amount == 0:
        return
    for budget in await budgets_of(session, spend.tenant, lock=True):
        if not applies_to(budget, spend.kind, spend.job_id):
            continue
        start = period_start(budget.period, spend.moment)
        current = budget.spent_period_start and as_utc(budget.spent_period_start)
        if current is not None and start < current:
            continue  # a late event of a period already closed
        if current != start:
            budget.spent_period_start, budget.spent_usd = start, Decimal(0)
        budget.spent_usd += spend.amount
        _publish_crossings(session, bus, budget, start)
        session.add(budget)


async def ledger_spend(session: AsyncSession, budget: Budget, since: datetime) -> Decimal:
    """What the ledger holds for ``budget`` since ``since`` (summed exactly, in Python)."""
    query = select(
        col(LedgerRow.kind), col(LedgerRow.reference_id), col(LedgerRow.amount_usd)
    ).where(col(LedgerRow.tenant) == budget.tenant, col(LedgerRow.period_start) >= since)
    total = Decimal(0)
    for kind, reference, amount in await session.execute(query):
        job_id = reference.split("/", 1)[0] if kind == "training" else None
        if applies_to(budget, kind, job_id):
            total += amount
    return total


def budget_public(budget: Budget, now: datetime) -> BudgetPublic:
    spent = spent_now(budget, now)
    start = period_start(budget.period, now)
    state = "ok"
    if spent >= budget.limit_usd:
        state = "exceeded"
    elif spent >= budget.limit_usd * budget.alert_at:
        state = "alerted"
    return BudgetPublic(
        budget_id=budget.budget_id,
        scope=budget.scope,
        job_id=budget.job_id,
        period=budget.period,
        limit_usd=budget.limit_usd,
        alert_at=budget.alert_at,
        period_start=start,
        spent_usd=spent,
        remaining_usd=max(Decimal(0), budget.limit_usd - spent),
        state=state,
        created_at=budget.created_at,
    )


async def create_budget(
    session: AsyncSession, bus: Bus, tenant: str, request: BudgetCreate
) -> BudgetPublic:
    if (request.scope == "job") != (request.job_id is not None):
        raise InvalidRequest(
            "`job_id` is required for a budget with scope `job` and only then",
            field="job_id",
        )
    now = utc_now()
    budget = Budget(
        budget_id=f"bud_{uuid4().hex[:16]}",
        tenant=tenant,
        scope=request.scope,
        job_id=request.job_id,
        period=request.period,
        limit_usd=request.limit_usd,
        alert_at=request.alert_at,
    )
    start = period_start(budget.period, now)
    budget.spent_period_start = start
    budget.spent_usd = await ledger_spend(session, budget, start)
    _publish_crossings(session, bus, budget, start)
    session.add(budget)
    await session.flush()
    return budget_public(budget, now)


async def delete_budget(session: AsyncSession, tenant: str, budget_id: str) -> None:
    budget = (
        await session.execute(
            select(Budget).where(col(Budget.tenant) == tenant, col(Budget.budget_id) == budget_id)
        )
    ).scalar_one_or_none()
    if budget is None:
        raise NotFound(f"no budget {budget_id!r}; list budgets with GET /v1/budgets")
    await session.delete(budget)


async def check(
    session: AsyncSession, tenant: str, kind: str, estimated: Decimal, job_id: str | None
) -> BudgetCheckReply:
    """Would spending ``estimated`` now on ``kind`` break a budget?"""
    now = utc_now()
    standings: list[BudgetStanding] = []
    broken: list[str] = []
    for budget in await budgets_of(session, tenant):
        spend_kind = "training" if kind == "job" else "inference"
        if not applies_to(budget, spend_kind, job_id):
            continue
        spent = spent_now(budget, now)
        standings.append(
            BudgetStanding(
                budget_id=budget.budget_id,
                scope=scope_label(budget),
                period=budget.period,
                limit_usd=budget.limit_usd,
                spent_usd=spent,
                remaining_usd=max(Decimal(0), budget.limit_usd - spent),
            )
        )
        if spent >= budget.limit_usd or spent + estimated > budget.limit_usd:
            broken.append(
                f"{scope_label(budget)} budget {budget.budget_id} ({budget.period}): "
                f"${decimal_text(spent)} spent of ${decimal_text(budget.limit_usd)}, "
                f"this would add ${decimal_text(estimated)}"
            )
    if broken:
        return BudgetCheckReply(
            allowed=False,
            code="budget_exceeded",
            message="Refused: "
            + "; ".join(broken)
            + ". Raise the limit with POST /v1/budgets, or wait for the next period.",
            budgets=standings,
        )
    return BudgetCheckReply(allowed=True, budgets=standings)


__all__ = [
    "Spend",
    "apply_spend",
    "budget_public",
    "budgets_of",
    "check",
    "create_budget",
    "delete_budget",
]
