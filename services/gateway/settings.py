"""Settings of the gateway."""

from pydantic import Field, model_validator

from libs.config import ServiceSettings

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


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
    auth: bool = Field(
        default=True,
        validation_alias="TUNELOOP_GATEWAY_AUTH",
        description="Require an API key on /v1/...; `false` only for local development "
        "(refused unless the gateway binds a loopback address).",
    )
    operator_tenant: str = Field(
        default="default",
        validation_alias="TUNELOOP_GATEWAY_OPERATOR_TENANT",
        description="The tenant whose admin keys may create keys for other tenants.",
    )
    max_body_bytes: int = Field(
        default=100 * 1024 * 1024,
        ge=1024,
        validation_alias="TUNELOOP_GATEWAY_MAX_BODY_BYTES",
        description="Largest request body (uploads included); larger ones get 413.",
    )

    @model_validator(mode="after")
    def _auth_off_only_on_loopback(self) -> "GatewaySettings":
        if not self.auth and self.http_host not in LOOPBACK_HOSTS:
            raise ValueError(
                "TUNELOOP_GATEWAY_AUTH=false is only allowed while the gateway binds a "
                f"loopback address (it binds {self.http_host}); turn auth back on"
            )
        return self


__all__ = ["GatewaySettings"]
