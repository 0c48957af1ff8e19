"""Settings of the gateway."""

from pydantic import Field, field_validator, model_validator

from libs.config import ServiceSettings
from services.gateway.webhook_targets import AllowedTargets

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

    webhook_allowed_targets: str = Field(
        default="",
        validation_alias="TUNELOOP_GATEWAY_WEBHOOK_ALLOWED_TARGETS",
        description="Private webhook targets to allow, comma-separated: networks in CIDR "
        "notation (`10.0.0.0/8`, `127.0.0.1/32`) and exact host names (`hooks.internal`). "
        "Without them, webhooks go to public addresses only: loopback, link-local (cloud "
        "metadata), private, shared, multicast and unspecified addresses are refused at "
        "registration (422) and again at delivery, after resolving the host.",
    )

    @field_validator("webhook_allowed_targets")
    @classmethod
    def _targets_parse(cls, text: str) -> str:
        AllowedTargets.parse(text)
        return text

    def allowed_webhook_targets(self) -> AllowedTargets:
        return AllowedTargets.parse(self.webhook_allowed_targets)

    @model_validator(mode="after")
    def _auth_off_only_on_loopback(self) -> "GatewaySettings":
        if not self.auth and self.http_host not in LOOPBACK_HOSTS:
            raise ValueError(
                "TUNELOOP_GATEWAY_AUTH=false is only allowed while the gateway binds a "
                f"loopback address (it binds {self.http_host}); turn auth back on"
            )
        return self


__all__ = ["GatewaySettings"]
