"""Settings of the evaluator service."""

from pydantic import Field

from libs.config import ServiceSettings


class EvaluatorSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_EVALUATOR_PORT",
        description="HTTP port of the evaluator; 0 picks a free one.",
    )


__all__ = ["EvaluatorSettings"]
