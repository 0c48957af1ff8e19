"""Settings of the router service."""

from pydantic import Field

from libs.config import ServiceSettings


class RouterSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_ROUTER_PORT",
        description="HTTP port of the router; 0 picks a free one.",
    )


__all__ = ["RouterSettings"]
