"""The router's budget guard: cached answers, background refresh, events block at once."""

import asyncio
from decimal import Decimal

import pytest

from contracts.events import BudgetExceeded
from contracts.queries import BudgetCheckQuery, BudgetCheckReply
from services.router.budgets import BudgetGuard
from tests.polling import eventually

pytestmark = pytest.mark.unit


class CostService:
    def __init__(self) -> None:
        self.allowed = True
        self.asked: list[str] = []
        self.down = False

    async def ask(self, query: BudgetCheckQuery) -> BudgetCheckReply:
        self.asked.append(query.tenant)
        await asyncio.sleep(0)
        if self.down:
            raise TimeoutError
        message = "" if self.allowed else "the tenant budget of $5 for this month is spent"
        return BudgetCheckReply(allowed=self.allowed, message=message)


async def test_a_spent_budget_refuses_after_the_background_check() -> None:
    cost = CostService()
    cost.allowed = False
    guard = BudgetGuard(cost.ask, ttl=60)
    assert guard.refusal("acme") is None  # never waits for the cost service
    await eventually(lambda: guard.refusal("acme") is not None, what="the refusal")
    assert "budget of $5" in (guard.refusal("acme") or "")
    assert cost.asked == ["acme"]  # answers are cached for the ttl
    await guard.close()


async def test_a_stale_answer_is_refreshed_and_a_raised_budget_serves_again() -> None:
    cost = CostService()
    cost.allowed = False
    guard = BudgetGuard(cost.ask, ttl=0.0)
    guard.refusal("acme")
    await eventually(lambda: guard.refusal("acme") is not None, what="the refusal")
    cost.allowed = True
    await eventually(lambda: guard.refusal("acme") is None, what="served again")
    await guard.close()


async def test_budget_exceeded_blocks_at_once_and_the_cost_service_down_serves() -> None:
    cost = CostService()
    cost.down = True
    guard = BudgetGuard(cost.ask, ttl=60)
    assert guard.refusal("globex") is None
    await eventually(lambda: cost.asked == ["globex"], what="the check")
    assert guard.refusal("globex") is None  # no answer: served
    exceeded = BudgetExceeded(
        tenant="globex",
        budget_id="b1",
        scope="inference",
        limit_usd=Decimal("5"),
        spent_usd=Decimal("5.01"),
    )
    guard.exceeded(exceeded)
    assert "$5" in (guard.refusal("globex") or "")
    guard.exceeded(exceeded.model_copy(update={"tenant": "initech", "scope": "job"}))
    assert guard.refusal("initech") is None  # a job budget does not stop inference
    await guard.close()


async def test_a_down_cost_service_is_asked_again_only_after_the_interval() -> None:
    cost = CostService()
    cost.down = True
    guard = BudgetGuard(cost.ask, ttl=60)
    guard.refusal("initech")
    await eventually(lambda: cost.asked == ["initech"], what="the first check")
    for _ in range(20):
        assert guard.refusal("initech") is None
        await asyncio.sleep(0)
    assert cost.asked == ["initech"]  # not once per request
    await guard.close()
