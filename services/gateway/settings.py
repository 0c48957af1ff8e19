"""Settings of the gateway."""

from pydantic import Field

from libs.config import ServiceSettings


class GatewaySettings(ServiceSettings):
    http_port: int = Field(
        default=8000,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_GATEWAY_PORT",
        description="Port of the public HTTP API.",
    )
    health_timeout_seconds: float = Field(
        default=1.5, gt=0, description="How long to wait for each service."
    )


__all__ = ["GatewaySettings"]
