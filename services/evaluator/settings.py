"""Settings of the evaluator service."""

from pydantic import Field, SecretStr

from libs.config import ServiceSettings


class EvaluatorSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_EVALUATOR_PORT",
        description="HTTP port of the evaluator; 0 picks a free one.",
    )
    snapshot_interval_seconds: float = Field(
        default=5.0,
        ge=0,
        validation_alias="TUNELOOP_EVALUATOR_SNAPSHOT_INTERVAL_SECONDS",
        description="At most one experiment.updated per experiment in this many seconds.",
    )
    ingest_concurrency: int = Field(
        default=32,
        ge=1,
        le=1024,
        validation_alias="TUNELOOP_EVALUATOR_INGEST_CONCURRENCY",
        description="inference.completed and feedback.recorded events handled at once; those "
        "waiting together share one transaction (group commit).",
    )
    model_base_url: str = Field(
        default="http://127.0.0.1:8000/v1",
        validation_alias="TUNELOOP_EVALUATOR_MODEL_BASE_URL",
        description="OpenAI-compatible base URL offline evaluations ask: the router's (they "
        "are asked as the evaluation's tenant, signed with the internal secret).",
    )
    judge_base_url: str | None = Field(
        default=None,
        validation_alias="TUNELOOP_EVALUATOR_JUDGE_BASE_URL",
        description="OpenAI-compatible URL of the LLM judge; the models' URL when unset.",
    )
    judge_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="TUNELOOP_EVALUATOR_JUDGE_API_KEY",
        description="Bearer token for the judge's URL, if it needs one.",
    )
    evaluation_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        validation_alias="TUNELOOP_EVALUATOR_CONCURRENCY",
        description="Requests an offline evaluation sends at once.",
    )
    evaluation_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        validation_alias="TUNELOOP_EVALUATOR_REQUEST_TIMEOUT_SECONDS",
        description="Timeout of one model request during an offline evaluation.",
    )


__all__ = ["EvaluatorSettings"]
