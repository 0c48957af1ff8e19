"""HTTP bodies of the cost service: prices, estimates, ledger, summaries, ROI and budgets.

Every amount of money is an exact decimal, written as a string in JSON.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.events.cost import CostKind, CostUnit
from contracts.fields import Sha256
from contracts.money import ExactDecimal, Fraction, SignedUsd, Usd

HardwareUnit = Literal["gpu_hour", "cpu_hour"]
SummaryGroup = Literal["tenant", "model", "serving_name", "day", "kind"]
BudgetScope = Literal["tenant", "training", "inference", "job"]
BudgetPeriod = Literal["day", "month", "total"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- prices -------------------------------------------------------------------------------


class ModelPrice(Body):
    """Prices of one model, per million tokens; leave a price out when it does not apply."""

    model: str = Field(min_length=1, max_length=255, examples=["gpt-4o-mini-2024-07-18"])
    training_per_1m: Usd | None = Field(default=None, description="Fine-tuning, per 1M tokens.")
    input_per_1m: Usd | None = Field(default=None, description="Inference input, per 1M tokens.")
    output_per_1m: Usd | None = Field(default=None, description="Inference output, per 1M.")
    note: str = Field(default="", max_length=500)


class HardwarePrice(Body):
    """What one hour of a kind of hardware costs, and how fast it trains and serves."""

    hardware: str = Field(min_length=1, max_length=64, examples=["a100"])
    unit: HardwareUnit = "gpu_hour"
    usd_per_hour: Usd
    examples_per_second: float = Field(gt=0, description="Training speed prior, examples/s.")
    inference_tokens_per_second: float = Field(
        gt=0, description="Serving throughput prior (prompt + completion tokens/s)."
    )
    note: str = Field(default="", max_length=500)


class PriceTable(Body):
    """One immutable version of a tenant's price table; version 0 is the shipped default."""

    tenant: str
    version: int = Field(ge=0)
    created_at: datetime | None = None
    as_of: date = Field(description="When these prices were taken from their source.")
    source: str
    notes: str = ""
    models: list[ModelPrice]
    hardware: list[HardwarePrice]


class PriceVersionSummary(Body):
    version: int
    created_at: datetime | None
    as_of: date
    source: str
    notes: str


class PriceEdit(Body):
    """Changes to the current table; saving them creates a new version (never edits in place)."""

    models: list[ModelPrice] = Field(default_factory=list, description="Added or replaced.")
    hardware: list[HardwarePrice] = Field(default_factory=list, description="Added or replaced.")
    remove_models: list[str] = Field(default_factory=list)
    remove_hardware: list[str] = Field(default_factory=list)
    as_of: date | None = None
    source: str | None = Field(default=None, max_length=500)
    notes: str = Field(default="", max_length=2000)


# --- estimates ----------------------------------------------------------------------------


class EstimateRequest(Body):
    """Training examples: a dataset artifact or rendered texts (counted with the model's
    tokenizer), or their token counts."""

    model: str = Field(min_length=1, description="Base model to fine-tune (hosted or local).")
    examples: list[str] = Field(default_factory=list, description="Rendered training examples.")
    dataset_sha256: Sha256 | None = Field(
        default=None,
        description="A JSONL dataset in the artifact store (e.g. from `dataset.exported`), "
        "counted with `tokenizer`.",
    )
    example_token_counts: list[int] = Field(
        default_factory=list, description="Token counts already measured, one per example."
    )
    tokenizer: str | None = Field(
        default=None, description="Tokenizer name or path to count `examples` with."
    )
    context_length: int = Field(default=2048, ge=1, le=1_048_576)
    epochs: int = Field(default=3, ge=1, le=100)
    hardware: list[str] | None = Field(
        default=None, description="Hardware kinds to estimate; every priced kind by default."
    )


class HostedEstimate(Body):
    model: str
    training_per_1m: Usd
    cost_usd: Usd


class HardwareEstimate(Body):
    hardware: str
    unit: HardwareUnit
    usd_per_hour: Usd
    basis: Literal["prior", "measured"]
    examples_per_second_prior: float
    measured_tokens_per_second: float | None = None
    measured_jobs: int = 0
    wall_seconds: float
    cost_usd: Usd


class Estimate(Body):
    model: str
    examples: int
    epochs: int
    context_length: int
    truncated_examples: int = Field(description="Examples longer than the context.")
    trained_tokens: int = Field(description="Σ min(context, tokens per example) x epochs.")
    price_version: int
    hosted: HostedEstimate | None = None
    hardware: list[HardwareEstimate]


# --- ledger and summaries -----------------------------------------------------------------


class LedgerEntry(Body):
    entry_id: str
    tenant: str
    kind: CostKind
    reference_id: str
    model: str | None
    serving_name: str | None
    quantity: ExactDecimal
    unit: CostUnit
    amount_usd: Usd
    requests: int
    price_version: int
    period_start: datetime
    period_end: datetime


class LedgerPage(Body):
    entries: list[LedgerEntry]
    total_usd: Usd = Field(description="Sum of every matching entry, not only this page.")
    next_offset: int | None = None


class SummaryRow(Body):
    group: str
    amount_usd: Usd
    requests: int
    tokens: int
    entries: int


class CostSummary(Body):
    group_by: SummaryGroup
    since: datetime | None
    until: datetime | None
    rows: list[SummaryRow]
    total_usd: Usd


class DailySeries(Body):
    name: str
    values: list[Usd]


class DailyCosts(Body):
    """Chart-ready: one value per day for each series (training, inference)."""

    days: list[date]
    series: list[DailySeries]


# --- ROI ----------------------------------------------------------------------------------


class RoiRequest(Body):
    """A fine-tuned version against its baseline; omitted costs come from the ledger."""

    serving_name: str | None = Field(default=None, description="The fine-tuned version.")
    baseline: str | None = Field(default=None, description="What it replaces.")
    training_cost_usd: Usd | None = None
    base_cost_per_call_usd: Usd | None = None
    tuned_cost_per_call_usd: Usd | None = None
    base_accuracy: Fraction = Field(description="Share of correct answers before, e.g. 0.85.")
    tuned_accuracy: Fraction = Field(description="Share of correct answers after, e.g. 0.92.")
    value_per_error_usd: Usd = Field(default=Decimal(10), description="Worth of one error less.")
    calls_per_month: int = Field(ge=0)
    horizon_months: int = Field(default=6, ge=1, le=120)


class RoiReport(Body):
    training_cost_usd: Usd
    base_cost_per_call_usd: Usd
    tuned_cost_per_call_usd: Usd
    inference_saving_per_call_usd: SignedUsd
    inference_saving_per_month_usd: SignedUsd
    accuracy_gain: ExactDecimal
    quality_value_per_month_usd: SignedUsd
    benefit_per_month_usd: SignedUsd
    break_even_calls: int | None = Field(description="Calls until the training cost is repaid.")
    payback_days: ExactDecimal | None = Field(description="Days (30 a month) until repaid.")
    horizon_months: int
    net_at_horizon_usd: SignedUsd
    roi_percent: ExactDecimal | None
    verdict: str


class HostingComparisonRequest(Body):
    """A hosted fine-tuned API model against the same task on a self-hosted adapter."""

    hosted_model: str = Field(examples=["gpt-4o-mini-2024-07-18"])
    hardware: str = Field(examples=["a10"])
    trained_tokens: int = Field(ge=0)
    training_examples: int = Field(default=0, ge=0, description="For the self-hosted wall time.")
    epochs: int = Field(default=1, ge=1)
    calls_per_month: int = Field(ge=0)
    prompt_tokens_per_call: int = Field(ge=0)
    completion_tokens_per_call: int = Field(ge=0)
    horizon_months: int = Field(default=6, ge=1, le=120)
    inference_tokens_per_second: float | None = Field(
        default=None, gt=0, description="Measured serving throughput; the hardware prior if unset."
    )


class HostingOption(Body):
    option: Literal["hosted", "self_hosted"]
    training_cost_usd: Usd
    cost_per_call_usd: Usd
    inference_per_month_usd: Usd
    total_at_horizon_usd: Usd


class HostingComparison(Body):
    hosted: HostingOption
    self_hosted: HostingOption
    cheaper: Literal["hosted", "self_hosted", "equal"]
    difference_at_horizon_usd: Usd
    price_version: int
    verdict: str


# --- budgets ------------------------------------------------------------------------------


class BudgetCreate(Body):
    scope: BudgetScope = "tenant"
    job_id: str | None = Field(default=None, description="Required when scope is `job`.")
    period: BudgetPeriod = "month"
    limit_usd: Usd
    alert_at: Fraction = Field(default=Decimal("0.8"), description="Alert at this share.")


class BudgetPublic(Body):
    budget_id: str
    scope: BudgetScope
    job_id: str | None
    period: BudgetPeriod
    limit_usd: Usd
    alert_at: Fraction
    period_start: datetime
    spent_usd: Usd
    remaining_usd: Usd
    state: Literal["ok", "alerted", "exceeded"]
    created_at: datetime


class BudgetCheckRequest(Body):
    kind: Literal["job", "inference"]
    estimated_usd: Usd = Decimal(0)
    job_id: str | None = None


__all__ = [
    "BudgetCheckRequest",
    "BudgetCreate",
    "BudgetPeriod",
    "BudgetPublic",
    "BudgetScope",
    "CostSummary",
    "DailyCosts",
    "DailySeries",
    "Estimate",
    "EstimateRequest",
    "HardwareEstimate",
    "HardwarePrice",
    "HardwareUnit",
    "HostedEstimate",
    "HostingComparison",
    "HostingComparisonRequest",
    "HostingOption",
    "LedgerEntry",
    "LedgerPage",
    "ModelPrice",
    "PriceEdit",
    "PriceTable",
    "PriceVersionSummary",
    "RoiReport",
    "RoiRequest",
    "SummaryGroup",
    "SummaryRow",
]
