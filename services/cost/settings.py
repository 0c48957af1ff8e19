"""Settings of the cost service."""

from pydantic import Field

from libs.config import ServiceSettings


class CostSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_COST_PORT",
        description="HTTP port of the cost; 0 picks a free one.",
    )


__all__ = ["CostSettings"]
