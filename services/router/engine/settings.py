"""Settings of the embedded engine."""

from pathlib import Path

from pydantic import Field

from libs.config import ServiceSettings


class EngineSettings(ServiceSettings):
    http_port: int = Field(default=0, ge=0, le=65535, validation_alias="TUNELOOP_ENGINE_PORT")
    base_model: str = Field(
        default="smollm2-135m-instruct",
        validation_alias="TUNELOOP_BASE_MODEL",
        description="`tiny-llama`, `smollm2-135m-instruct` or an HF dir.",
    )
    models_dir: Path | None = Field(
        default=None,
        validation_alias="TUNELOOP_MODELS_DIR",
        description="Cache of built base models; <home>/models.",
    )
    max_new_tokens_limit: int = Field(default=512, ge=1)
    threads: int = Field(default=2, ge=1, validation_alias="TUNELOOP_ENGINE_THREADS")
    max_batch: int = Field(
        default=8,
        ge=1,
        le=256,
        validation_alias="TUNELOOP_ENGINE_MAX_BATCH",
        description=(
            "Requests decoded together in one forward pass (continuous batching across "
            "requests and adapters); 1 serves one request at a time."
        ),
    )

    def resolved_models_dir(self) -> Path:
        return (self.models_dir or self.home / "models").resolve()


__all__ = ["EngineSettings"]
