"""Events of the cost service: ledger entries and budgets.

Amounts are exact decimals, carried as strings in JSON.
"""

from datetime import datetime
from typing import Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.money import ExactDecimal, Fraction, Usd

CostKind = Literal["training", "inference", "evaluation"]
CostUnit = Literal["tokens", "gpu_hours", "cpu_hours"]


class CostRecorded(Event):
    """One ledger entry: a job's cost, or one minute of a serving name's inference."""

    type: Literal["cost.recorded"] = "cost.recorded"
    entry_id: str
    kind: CostKind
    reference_id: str = Field(
        description="The job, or `<serving name>@<minute>` for a rollup of inference requests."
    )
    model: str | None = Field(default=None, description="The priced (base or hosted) model.")
    serving_name: str | None = None
    quantity: ExactDecimal = Field(ge=0, description="Tokens or hours, in `unit`.")
    unit: CostUnit
    amount_usd: Usd
    requests: int = Field(default=0, ge=0, description="Inference requests the entry covers.")
    price_version: int = Field(ge=0, description="Price table version used; 0 = shipped.")
    period_start: datetime | None = None
    period_end: datetime | None = None


class BudgetThresholdReached(Event):
    """Spend crossed a budget's alert threshold (once per budget and period)."""

    type: Literal["budget.threshold_reached"] = "budget.threshold_reached"
    budget_id: str
    scope: str
    period: str
    period_start: datetime
    threshold: Fraction
    limit_usd: Usd
    spent_usd: Usd


class BudgetExceeded(Event):
    """Spend crossed a budget's limit (once per budget and period)."""

    type: Literal["budget.exceeded"] = "budget.exceeded"
    budget_id: str
    scope: str
    period: str = "month"
    period_start: datetime | None = None
    limit_usd: Usd
    spent_usd: Usd


__all__ = ["BudgetExceeded", "BudgetThresholdReached", "CostKind", "CostRecorded", "CostUnit"]
