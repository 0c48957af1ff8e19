"""Request-reply queries answered over NATS outside any stream."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Query


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


__all__ = ["CheckResult", "HealthQuery", "HealthReply"]
