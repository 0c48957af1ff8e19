"""Request-reply queries answered over NATS outside any stream."""

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.api.cost import Estimate, EstimateRequest
from contracts.envelope import Query
from contracts.money import Usd
from contracts.selection import ExportFilters


class HealthQuery(Query):
    """Asks one service whether it is ready to work."""

    type: Literal["health.check"] = "health.check"


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    detail: str = ""


class HealthReply(BaseModel):
    """What a service answers to :class:`HealthQuery`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str
    status: Literal["ok", "degraded"]
    version: str
    pid: int
    started_at: datetime
    http_url: str | None = Field(default=None, description="Where the service serves HTTP.")
    checks: dict[str, CheckResult] = Field(default_factory=dict)


class BudgetCheckQuery(Query):
    """Asks the cost service whether spending ``estimated_usd`` now would break a budget.

    Ask it before starting a job (``kind="job"``) or serving inference (``kind="inference"``).
    """

    SERVICE: ClassVar[str] = "cost"
    type: Literal["budget.check"] = "budget.check"
    kind: Literal["job", "inference"]
    estimated_usd: Usd = Field(default=Decimal(0), description="What the work is expected to cost.")
    job_id: str | None = Field(default=None, description="The job, for per-job budgets.")


class BudgetStanding(BaseModel):
    """One budget as the check saw it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    budget_id: str
    scope: str
    period: str
    limit_usd: Usd
    spent_usd: Usd
    remaining_usd: Usd


class BudgetCheckReply(BaseModel):
    """``allowed`` is false when the spend so far plus the estimate exceeds a budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed: bool
    code: Literal["ok", "budget_exceeded"] = "ok"
    message: str = ""
    budgets: list[BudgetStanding] = Field(default_factory=list)


class JobEstimateQuery(Query):
    """Asks the cost service what a fine-tuning job will cost, before the job is queued.

    ``request`` names the job's training file (``dataset_sha256``) and the base model's
    tokenizer, so trained tokens are counted with the real tokenizer.
    """

    SERVICE: ClassVar[str] = "cost"
    type: Literal["cost.estimate_job"] = "cost.estimate_job"
    job_id: str = Field(min_length=1)
    request: EstimateRequest


class JobEstimateReply(BaseModel):
    """The estimate, or why there is none (``error``, in words the job's owner can act on)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    estimate: Estimate | None = None
    error: str | None = None


class AuthenticateQuery(Query):
    """Asks the gateway who an API key belongs to (the router checks direct callers' keys)."""

    SERVICE: ClassVar[str] = "gateway"
    type: Literal["gateway.authenticate"] = "gateway.authenticate"
    key: str = Field(min_length=1, max_length=256, description="The full `tl_...` key.")


class AuthenticateReply(BaseModel):
    """``valid`` is false for an unknown, malformed or revoked key (the reason is not told)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    valid: bool
    key_id: str | None = None
    tenant: str | None = None
    scopes: list[str] = Field(default_factory=list)


class ExampleCountQuery(Query):
    """Asks the exporter how many of the tenant's stored examples match export filters."""

    SERVICE: ClassVar[str] = "exporter"
    type: Literal["examples.count"] = "examples.count"
    filters: ExportFilters = Field(default_factory=ExportFilters)


class ExampleCountReply(BaseModel):
    """Examples matching the filters (before de-duplication and validation)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    matching: int = Field(ge=0)
    gold_star: int = Field(ge=0, description="Of those, marked gold star.")


class ServableQuery(Query):
    """Asks the router which of these serving names it knows and can send requests to."""

    SERVICE: ClassVar[str] = "router"
    type: Literal["servables.find"] = "servables.find"
    serving_names: list[str] = Field(min_length=1, max_length=16)


class ServableReply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    servable: list[str] = Field(description="The asked names the router can serve.")


__all__ = [
    "AuthenticateQuery",
    "AuthenticateReply",
    "BudgetCheckQuery",
    "BudgetCheckReply",
    "BudgetStanding",
    "CheckResult",
    "ExampleCountQuery",
    "ExampleCountReply",
    "HealthQuery",
    "HealthReply",
    "JobEstimateQuery",
    "JobEstimateReply",
    "ServableQuery",
    "ServableReply",
]
