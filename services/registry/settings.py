"""Settings of the registry service."""

from pydantic import Field

from libs.config import ServiceSettings


class RegistrySettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_REGISTRY_PORT",
        description="HTTP port of the registry; 0 picks a free one.",
    )


__all__ = ["RegistrySettings"]
