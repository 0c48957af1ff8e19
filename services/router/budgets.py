"""Inference budgets: a tenant whose budget is spent gets 429 instead of an answer.

The request path never waits for the cost service: it reads a per-tenant answer cached for
``ttl`` seconds and, when that answer is missing or stale, asks again in the background. A
``budget.exceeded`` event blocks the tenant at once. Until the first answer arrives, and while
the cost service does not answer, requests are served (budgets guard spending; they must not
take inference down with the cost service).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from contracts.events import BudgetExceeded
from contracts.queries import BudgetCheckQuery, BudgetCheckReply

logger = logging.getLogger("tuneloop.router.budgets")
INFERENCE_SCOPES = frozenset({"tenant", "inference"})

AskBudget = Callable[[BudgetCheckQuery], Awaitable[BudgetCheckReply]]


@dataclass
class Standing:
    allowed: bool
    message: str
    checked_at: float


class BudgetGuard:
    def __init__(self, ask: AskBudget, ttl: float = 10.0) -> None:
        self.ask = ask
        self.ttl = ttl
        self._standings: dict[str, Standing] = {}
        self._asking: dict[str, asyncio.Task[None]] = {}

    def refusal(self, tenant: str) -> str | None:
        """Why ``tenant`` may not be served now, or ``None``; refreshes a stale answer."""
        standing = self._standings.get(tenant)
        if standing is None or time.monotonic() - standing.checked_at > self.ttl:
            self._refresh(tenant)
        if standing is None or standing.allowed:
            return None
        return standing.message

    def _refresh(self, tenant: str) -> None:
        if tenant in self._asking:
            return
        task = asyncio.get_running_loop().create_task(self._check(tenant))
        self._asking[tenant] = task
        task.add_done_callback(lambda _: self._asking.pop(tenant, None))

    async def _check(self, tenant: str) -> None:
        try:
            reply = await self.ask(BudgetCheckQuery(tenant=tenant, kind="inference"))
        except Exception as exc:
            # fail open, and ask again only after the usual interval (not on every request)
            logger.warning(
                "budgets of %s not checked (%s); serving, and asking again in %.0fs",
                tenant,
                type(exc).__name__,
                self.ttl,
            )
            previous = self._standings.get(tenant)
            allowed = previous.allowed if previous is not None else True
            message = previous.message if previous is not None else ""
            self._standings[tenant] = Standing(allowed, message, time.monotonic())
            return
        self._standings[tenant] = Standing(reply.allowed, reply.message, time.monotonic())

    def exceeded(self, event: BudgetExceeded) -> None:
        """A budget that covers inference was spent: refuse the tenant until it is raised."""
        if event.scope not in INFERENCE_SCOPES:
            return
        message = (
            f"the {event.scope} budget of ${event.limit_usd} for this {event.period} is spent "
            f"(${event.spent_usd})"
        )
        self._standings[event.tenant] = Standing(False, message, time.monotonic())

    async def close(self) -> None:
        for task in list(self._asking.values()):
            task.cancel()
        await asyncio.gather(*self._asking.values(), return_exceptions=True)


def refusal_message(reason: str) -> str:
    return (
        f"inference refused: {reason}. Raise the budget (POST /v1/budgets) or wait for its "
        "period to end."
    )


__all__ = ["BudgetGuard", "refusal_message"]
