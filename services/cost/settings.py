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
    serving_hardware: str = Field(
        default="cpu",
        min_length=1,
        validation_alias="TUNELOOP_COST_SERVING_HARDWARE",
        description="Hardware kind (a key of the price table) that serves self-hosted models; "
        "their inference is priced at its hourly rate and throughput.",
    )


__all__ = ["CostSettings"]
