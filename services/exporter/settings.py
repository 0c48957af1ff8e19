"""Settings of the exporter service."""

import os
from pathlib import Path

from pydantic import Field

from libs.config import ServiceSettings

DEFAULT_MAX_INTAKE_WORKERS = 4


class ExporterSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_EXPORTER_PORT",
        description="HTTP port of the exporter; 0 picks a free one.",
    )
    exporter_tokenizer: Path | None = Field(
        default=None,
        description="Local Hugging Face directory of the tokenizer used to count tokens. Unset: "
        "the tokenizer of TUNELOOP_BASE_MODEL once it is in the models cache, else ~4 bytes per "
        "token (an estimate, named as such in manifests).",
    )
    base_model: str | None = Field(
        default=None,
        validation_alias="TUNELOOP_BASE_MODEL",
        description="The base model datasets are prepared for (its tokenizer and context).",
    )
    models_dir: Path | None = Field(
        default=None,
        validation_alias="TUNELOOP_MODELS_DIR",
        description="Cache of base models; default <home>/models.",
    )
    exporter_context_length: int | None = Field(
        default=None,
        ge=16,
        description="Token limit of the base model; longer rows are refused. Unset: the base "
        "model's own context length, else 2048.",
    )
    exporter_near_limit_fraction: float = Field(
        default=0.9, gt=0, le=1, description="Rows above this share of the limit get a warning."
    )
    exporter_min_prompt_chars: int = Field(
        default=10, ge=0, description="Shortest accepted prompt (user text), in characters."
    )
    exporter_min_response_chars: int = Field(
        default=20, ge=0, description="Shortest accepted response (last assistant message)."
    )
    exporter_upload_max_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1, description="Largest accepted upload, in bytes."
    )
    exporter_max_reported_errors: int = Field(
        default=100, ge=1, description="Row errors listed in a response; the total is counted."
    )
    exporter_min_examples: int = Field(
        default=10, ge=1, description="Fewer valid examples make an export fail."
    )
    exporter_warn_examples: int = Field(
        default=100, ge=1, description="Fewer valid examples make an export warn."
    )
    exporter_external_databases: dict[str, str] = Field(
        default_factory=dict,
        description="External PostgreSQL databases examples can be imported from, as JSON: "
        '{"app": "postgresql://reader:...@host/db"}. Use a read-only role.',
    )
    exporter_external_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Statement timeout of an external import query."
    )

    exporter_intake_workers: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="Worker processes that check, count and encode large POST /v1/examples "
        "bodies off the event loop, so concurrent requests use every core (into a SQLite "
        "database they also insert them, taking turns); once running "
        "(started by the first large body), they also write exports from a SQLite database "
        "in shards, one each. Each holds the tokenizer (about 0.5 GB resident with "
        "transformers loaded). Unset: one per CPU core, at most 4; 0: bodies are checked and "
        "exports written in the service process.",
    )
    exporter_intake_min_worker_bytes: int = Field(
        default=128 * 1024,
        ge=1,
        description="Smaller POST /v1/examples bodies (a few hundred examples) are checked in "
        "the service process: handing them to a worker would cost more than checking them.",
    )

    def intake_workers(self) -> int:
        if self.exporter_intake_workers is not None:
            return self.exporter_intake_workers
        return min(os.cpu_count() or 1, DEFAULT_MAX_INTAKE_WORKERS)

    def resolved_models_dir(self) -> Path:
        return (self.models_dir or self.home / "models").resolve()


__all__ = ["ExporterSettings"]
