"""A tenant whose budget is spent gets 429 from the router, in OpenAI's error shape; other
tenants are served."""

from decimal import Decimal

import pytest
from faststream.nats import NatsRouter

from contracts.api.cost import BudgetCreate
from contracts.envelope import utc_now
from libs.messaging import OutboxRelay, Subjects
from services.cost.costs import Costs
from services.cost.handlers import cost_handlers
from tests.conftest import unique_name
from tests.integration.cost.conftest import costs_on, job_completed
from tests.integration.harness import running_bus
from tests.integration.router.conftest import Stack
from tests.integration.router.test_router import chat, register_and_deploy
from tests.polling import eventually

pytestmark = pytest.mark.integration


async def test_a_spent_budget_refuses_inference_with_429(
    stack: Stack, nats_url: str, subjects: Subjects, migrated_database_url: str
) -> None:
    await register_and_deploy(stack, "budgeted answer")
    costs: Costs = costs_on(migrated_database_url)
    router = NatsRouter()
    router.include_router(cost_handlers(costs, subjects))
    spender = unique_name("spender-")
    async with running_bus(nats_url, subjects, router) as bus:
        costs.bus = bus
        costs.outbox = OutboxRelay(costs.database, bus)
        await costs.create_budget(
            spender, BudgetCreate(scope="tenant", period="month", limit_usd=Decimal("0.01"))
        )
        await costs.job_completed(
            job_completed("budget-job", tenant=spender, wall_seconds=3600.0, time=utc_now())
        )

        async def status(tenant: str) -> int:
            response = await stack.client.post(
                "/v1/chat/completions",
                json=chat("support-bot"),
                headers={"X-Tuneloop-Tenant": tenant},
            )
            return response.status_code

        async def refused() -> bool:
            return await status(spender) == 429

        await eventually(refused, what="the spent budget to refuse inference")
        response = await stack.client.post(
            "/v1/chat/completions", json=chat("support-bot"), headers={"X-Tuneloop-Tenant": spender}
        )
        error = response.json()["error"]
        assert error["code"] == "budget_exceeded"
        assert error["type"] == "insufficient_quota"
        assert "POST /v1/budgets" in error["message"]

        async def acme_served() -> bool:
            return await status("acme") == 200

        await eventually(acme_served, what="another tenant to be served")
    await costs.database.dispose()
