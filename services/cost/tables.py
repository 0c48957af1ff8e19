"""The cost service's tables: price versions, the ledger, inference rollups, jobs, budgets.

Money is stored as NUMERIC on PostgreSQL and as decimal text on SQLite (which has no exact
decimal type), and is always read back as :class:`decimal.Decimal`.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, Numeric, String, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Field, SQLModel

from contracts.envelope import utc_now

MONEY_PRECISION = 28
MONEY_SCALE = 12


class Money(TypeDecorator[Decimal]):
    """Exact decimal dollars: NUMERIC(28, 12), or text on SQLite."""

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value).quantize(Decimal(1).scaleb(-MONEY_SCALE))
        return str(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def money(nullable: bool = False) -> Any:
    default = None if nullable else Decimal(0)
    return Field(default=default, sa_column=Column(Money(), nullable=nullable))


def timestamp(**options: Any) -> Any:
    return Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, **options),
    )


def moment(**options: Any) -> Any:
    """A required timestamp without a default."""
    return Field(sa_column=Column(DateTime(timezone=True), nullable=False, **options))


class PriceVersion(SQLModel, table=True):
    """One immutable version of a tenant's price table."""

    __tablename__ = "cost_price_versions"
    __table_args__ = (UniqueConstraint("tenant", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    version: int
    as_of: str = Field(max_length=10)
    source: str = Field(max_length=2000)
    notes: str = Field(default="", max_length=2000)
    created_at: datetime = timestamp()


class ModelPriceRow(SQLModel, table=True):
    __tablename__ = "cost_model_prices"
    __table_args__ = (UniqueConstraint("version_id", "model"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="cost_price_versions.id", index=True)
    model: str = Field(max_length=255)
    training_per_1m: Decimal | None = money(nullable=True)
    input_per_1m: Decimal | None = money(nullable=True)
    output_per_1m: Decimal | None = money(nullable=True)
    note: str = Field(default="", max_length=500)


class HardwarePriceRow(SQLModel, table=True):
    __tablename__ = "cost_hardware_prices"
    __table_args__ = (UniqueConstraint("version_id", "hardware"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="cost_price_versions.id", index=True)
    hardware: str = Field(max_length=64)
    unit: str = Field(max_length=16)
    usd_per_hour: Decimal = money()
    examples_per_second: float
    inference_tokens_per_second: float
    note: str = Field(default="", max_length=500)


class CostJob(SQLModel, table=True):
    """What the cost service knows of a job from its events, to price it when it ends."""

    __tablename__ = "cost_jobs"
    __table_args__ = (UniqueConstraint("tenant", "job_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    job_id: str = Field(max_length=128)
    base_model: str | None = Field(default=None, max_length=255)
    backend: str | None = Field(default=None, max_length=32)
    hardware: str | None = Field(default=None, max_length=64)
    started_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    trained_tokens: int | None = None
    wall_seconds: float | None = None
    finished: bool = False


class ServingModel(SQLModel, table=True):
    """Which model a serving name runs on, from ``model.registered``."""

    __tablename__ = "cost_serving_models"
    __table_args__ = (UniqueConstraint("tenant", "serving_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    serving_name: str = Field(max_length=255)
    model_name: str = Field(max_length=64)
    version: int
    base_model: str = Field(max_length=255)
    external_model_id: str | None = Field(default=None, max_length=255)
    job_id: str | None = Field(default=None, max_length=128)


class LedgerRow(SQLModel, table=True):
    """One priced fact: a job, or one minute of one serving name's inference (a rollup).

    A rollup stays ``open`` while its minute receives requests; it is closed (and its
    ``cost.recorded`` published) once a later minute starts.
    """

    __tablename__ = "cost_ledger"
    __table_args__ = (UniqueConstraint("tenant", "kind", "reference_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(max_length=64, unique=True)
    tenant: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    reference_id: str = Field(max_length=300)
    model: str | None = Field(default=None, max_length=255, index=True)
    serving_name: str | None = Field(default=None, max_length=255, index=True)
    quantity: Decimal = money()
    unit: str = Field(max_length=16)
    amount_usd: Decimal = money()
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    price_version: int = 0
    open: bool = False
    period_start: datetime = moment(index=True)
    period_end: datetime = moment()
    recorded_at: datetime = timestamp()


class Budget(SQLModel, table=True):
    """A spending limit; ``spent_usd`` is kept up to date with every ledger change."""

    __tablename__ = "cost_budgets"

    id: int | None = Field(default=None, primary_key=True)
    budget_id: str = Field(max_length=64, unique=True)
    tenant: str = Field(max_length=64, index=True)
    scope: str = Field(max_length=16)
    job_id: str | None = Field(default=None, max_length=128)
    period: str = Field(max_length=8)
    limit_usd: Decimal = money()
    alert_at: Decimal = money()
    spent_usd: Decimal = money()
    spent_period_start: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    alerted_period: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    exceeded_period: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = timestamp()


__all__ = [
    "Budget",
    "CostJob",
    "HardwarePriceRow",
    "LedgerRow",
    "ModelPriceRow",
    "Money",
    "PriceVersion",
    "ServingModel",
]
