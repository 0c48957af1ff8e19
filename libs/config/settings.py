"""Settings shared by every process, read from ``TUNELOOP_*`` variables.

Each service subclasses :class:`ServiceSettings` once, in its own ``settings.py``. OpenTelemetry
is configured by the standard ``OTEL_*`` variables, read by the OpenTelemetry SDK itself.
"""

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

S = TypeVar("S", bound="TuneloopSettings")
SUBJECT_PREFIX_PATTERN = r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$"
INTERNAL_SECRET_FILE = "internal.secret"
MIN_INTERNAL_SECRET_LENGTH = 32


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


class TuneloopSettings(BaseSettings):
    """What every tuneloop process needs: where its state, bus and database are."""

    model_config = SettingsConfigDict(
        env_prefix="TUNELOOP_", extra="ignore", frozen=True, populate_by_name=True
    )

    home: Path = Field(
        default=Path(".tuneloop"),
        description="Directory for local state: SQLite, JetStream, artifacts.",
    )
    nats_url: str | None = Field(
        default=None, description="NATS server; empty starts an embedded one."
    )
    subject_prefix: str = Field(
        default="tuneloop",
        pattern=SUBJECT_PREFIX_PATTERN,
        description="First token(s) of every subject and stream name.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; empty uses SQLite under the home directory.",
    )
    artifacts_dir: Path | None = Field(
        default=None, description="Artifact store; default <home>/artifacts."
    )
    stream_replicas: int = Field(
        default=1, ge=1, le=5, description="Replicas of every JetStream stream (3 on a cluster)."
    )
    max_delivery_attempts: int = Field(
        default=5, ge=1, le=100, description="Attempts before a message is dead-lettered."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    internal_secret: SecretStr | None = Field(
        default=None,
        description="Shared by the gateway and every service (the same value everywhere, at "
        f"least {MIN_INTERNAL_SECRET_LENGTH} characters): the gateway signs each request's "
        "tenant, key id and scopes with it and the services refuse (401) what it did not "
        f"sign. Empty reads <home>/{INTERNAL_SECRET_FILE}, which `tuneloop up` generates.",
    )

    identity_max_skew_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How far a signed identity's time may be from this service's clock; each "
        "signature's nonce is remembered (in memory, per process) for twice as long, so a "
        "request played again is refused.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, url: str | None) -> str | None:
        if url is None or url == "":
            return None
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {url.split('://', 1)[0]}://...)"
            )
        return url

    @field_validator("internal_secret")
    @classmethod
    def _long_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is None or not secret.get_secret_value():
            return None
        if len(secret.get_secret_value()) < MIN_INTERNAL_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_INTERNAL_SECRET_LENGTH} characters (e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return secret

    def resolved_internal_secret(self) -> str | None:
        """The internal secret: set, or the one ``tuneloop up`` keeps in the home directory."""
        if self.internal_secret is not None:
            return self.internal_secret.get_secret_value()
        stored = self.home / INTERNAL_SECRET_FILE
        if stored.is_file():
            text = stored.read_text().strip()
            return text if len(text) >= MIN_INTERNAL_SECRET_LENGTH else None
        return None

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the home directory."""
        return self.database_url or f"sqlite+aiosqlite:///{self.home.resolve() / 'tuneloop.db'}"

    def resolved_artifacts_dir(self) -> Path:
        return (self.artifacts_dir or self.home / "artifacts").resolve()


class ServiceSettings(TuneloopSettings):
    """Settings of one service process; each service subclasses it once."""

    http_host: str = Field(default="127.0.0.1", description="Interface the HTTP API binds.")
    http_port: int = Field(default=0, ge=0, le=65535, description="HTTP port; 0 picks a free one.")


class StackSettings(TuneloopSettings):
    """Settings of ``tuneloop up``, which starts the bus and every service."""

    gateway_port: int = Field(default=8000, ge=0, le=65535)
    startup_timeout_seconds: float = Field(default=60.0, gt=0)
    base_model: str = Field(
        default="smollm2-135m-instruct",
        description="Base model the embedded engine serves (`tiny-llama`, "
        "`smollm2-135m-instruct` or a Hugging Face directory).",
    )
    router_upstreams: str = Field(
        default="",
        description="When set (`base_model=url,...`), the router uses these upstreams (e.g. "
        "vLLM) and no embedded engine is started.",
    )
    gateway_auth: bool = Field(
        default=True,
        validation_alias="TUNELOOP_GATEWAY_AUTH",
        description="Whether the gateway requires API keys (the router then requires them "
        "of direct callers too).",
    )
    engine_timeout_seconds: float = Field(
        default=600.0, gt=0, description="How long the embedded engine may take to load."
    )
    models_dir: Path | None = Field(
        default=None, description="Cache of base models; default <home>/models."
    )

    def resolved_models_dir(self) -> Path:
        return (self.models_dir or self.home / "models").resolve()


def _variable_name(location: tuple[int | str, ...]) -> str:
    name = "_".join(str(part) for part in location).upper()
    return name if name.startswith("TUNELOOP_") else f"TUNELOOP_{name}"


def load_settings(cls: type[S]) -> S:
    """Build settings, turning validation errors into one readable line per variable."""
    try:
        return cls()
    except ValidationError as exc:
        problems = "; ".join(f"{_variable_name(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None


class TelemetrySettings(BaseSettings):
    """The standard OpenTelemetry variables tuneloop itself acts on.

    Exporter endpoints, headers and protocols (``OTEL_EXPORTER_OTLP_*``) are read by the
    OpenTelemetry SDK directly.
    """

    model_config = SettingsConfigDict(env_prefix="OTEL_", extra="ignore", frozen=True)

    sdk_disabled: bool = False
    service_name: str | None = None
    traces_exporter: str = Field(default="none", description="none, console or otlp.")


__all__ = [
    "ConfigurationError",
    "ServiceSettings",
    "StackSettings",
    "TelemetrySettings",
    "TuneloopSettings",
    "load_settings",
]
