"""Settings of the trainer service."""

from pydantic import Field

from libs.config import ServiceSettings


class TrainerSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_TRAINER_PORT",
        description="HTTP port of the trainer; 0 picks a free one.",
    )


__all__ = ["TrainerSettings"]
