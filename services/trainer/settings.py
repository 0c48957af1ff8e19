"""Settings of the trainer service."""

from pathlib import Path

from pydantic import Field, SecretStr

from libs.config import ServiceSettings


class TrainerSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_TRAINER_PORT",
        description="HTTP port of the trainer; 0 picks a free one.",
    )
    models_dir: Path | None = Field(
        default=None,
        validation_alias="TUNELOOP_MODELS_DIR",
        description="Cache of base models built or converted once; default <home>/models.",
    )
    work_dir: Path | None = Field(
        default=None,
        validation_alias="TUNELOOP_TRAINER_WORK_DIR",
        description="Scratch space of running jobs; default <home>/trainer.",
    )
    max_file_bytes: int = Field(
        default=100 * 1024 * 1024,
        ge=1,
        validation_alias="TUNELOOP_TRAINER_MAX_FILE_BYTES",
        description="Largest file accepted by POST /v1/files; uploads stream to disk and get "
        "413 as soon as they pass it (nothing is kept).",
    )
    max_concurrent_jobs: int = Field(
        default=1, ge=1, le=64, validation_alias="TUNELOOP_TRAINER_MAX_CONCURRENT_JOBS"
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias="TUNELOOP_TRAINER_LEASE_SECONDS",
        description="A job whose worker has not renewed its lease for this long is taken over.",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        validation_alias="TUNELOOP_TRAINER_MAX_ATTEMPTS",
        description="Runs of one job (first run plus resumes) before it is marked failed.",
    )
    cancel_grace_seconds: float = Field(
        default=5.0,
        gt=0,
        validation_alias="TUNELOOP_TRAINER_CANCEL_GRACE_SECONDS",
        description="Time a cancelled training process gets to stop before it is killed.",
    )
    progress_interval_seconds: float = Field(
        default=0.5, gt=0, description="At most one progress event per interval between evals."
    )
    torch_threads: int = Field(
        default=0, ge=0, description="CPU threads of a training process; 0 lets torch choose."
    )

    hardware: str = Field(
        default="cpu",
        validation_alias="TUNELOOP_TRAINER_HARDWARE",
        description="Hardware kind of this worker in the cost service's price table (e.g. cpu, "
        "a10, a100): jobs are estimated and charged at its rate.",
    )
    estimate_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        validation_alias="TUNELOOP_TRAINER_ESTIMATE_TIMEOUT_SECONDS",
        description="How long to wait for the cost service's estimate and budget check before "
        "queueing a job without them.",
    )

    openai_base_url: str | None = Field(
        default=None,
        validation_alias="TUNELOOP_OPENAI_BASE_URL",
        description="OpenAI-compatible API of the openai backend; empty uses api.openai.com.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="TUNELOOP_OPENAI_API_KEY",
        description="API key of the openai backend; jobs on that backend fail without it.",
    )
    openai_poll_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias="TUNELOOP_OPENAI_POLL_SECONDS",
        description="How often a job on the openai backend is polled.",
    )

    def resolved_models_dir(self) -> Path:
        return (self.models_dir or self.home / "models").resolve()

    def resolved_work_dir(self) -> Path:
        return (self.work_dir or self.home / "trainer").resolve()


__all__ = ["TrainerSettings"]
