"""Bodies of the gateway's health endpoint."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ServiceHealth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "degraded", "unreachable"]
    version: str | None = None
    pid: int | None = None
    http_url: str | None = None
    checks: dict[str, str] = Field(
        default_factory=dict, description="Each check: `ok` or what is wrong."
    )
    latency_ms: float | None = None


class GatewayHealth(BaseModel):
    """``GET /healthz``: the stack is ``ok`` when every service answers ``ok``."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "degraded"]
    services: dict[str, ServiceHealth]
