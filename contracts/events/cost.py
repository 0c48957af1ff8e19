"""Events of the cost service: ledger entries and budgets."""

from typing import Literal

from pydantic import Field

from contracts.envelope import Event


class CostRecorded(Event):
    type: Literal["cost.recorded"] = "cost.recorded"
    entry_id: str
    kind: Literal["training", "inference", "evaluation"]
    reference_id: str = Field(description="The job, request or evaluation that cost this.")
    serving_name: str | None = None
    quantity: float = Field(ge=0)
    unit: Literal["tokens", "gpu_hours", "cpu_hours"]
    amount_usd: float = Field(ge=0)


class BudgetExceeded(Event):
    type: Literal["budget.exceeded"] = "budget.exceeded"
    budget_id: str
    scope: str
    limit_usd: float = Field(ge=0)
    spent_usd: float = Field(ge=0)
