"""Settings of the exporter service."""

from pydantic import Field

from libs.config import ServiceSettings


class ExporterSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_EXPORTER_PORT",
        description="HTTP port of the exporter; 0 picks a free one.",
    )


__all__ = ["ExporterSettings"]
