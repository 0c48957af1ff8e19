"""Settings of the router."""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from libs.config import ServiceSettings


class RouterSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_ROUTER_PORT",
        description="HTTP port of the router; 0 picks a free one.",
    )
    upstreams: str = Field(
        default="",
        validation_alias="TUNELOOP_ROUTER_UPSTREAMS",
        description="Comma-separated `base_model=url` (or `*=url` for every base model) of "
        "OpenAI-compatible servers with LoRA loading (vLLM or the embedded engine).",
    )
    adapter_dir: Path | None = Field(
        default=None,
        validation_alias="TUNELOOP_ROUTER_ADAPTER_DIR",
        description="Where adapters are unpacked for the upstreams to read; <home>/adapters.",
    )
    remote_base_url: str | None = Field(
        default=None,
        validation_alias="TUNELOOP_ROUTER_REMOTE_BASE_URL",
        description="OpenAI-compatible endpoint for hosted models (e.g. OpenAI ft: models).",
    )
    remote_api_key: SecretStr | None = Field(
        default=None, validation_alias="TUNELOOP_ROUTER_REMOTE_API_KEY"
    )
    require_key: bool = Field(
        default=False,
        validation_alias="TUNELOOP_ROUTER_REQUIRE_KEY",
        description="Refuse direct calls that carry neither an API key nor the gateway's "
        "tenant header (`tuneloop up` turns it on with the gateway's auth).",
    )
    max_request_bytes: int = Field(default=1_000_000, ge=1024)
    max_tokens_limit: int = Field(default=4096, ge=1)
    connect_retries: int = Field(default=2, ge=0, le=10)
    budget_check_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias="TUNELOOP_ROUTER_BUDGET_CHECK_SECONDS",
        description="How long the router trusts the cost service's answer on a tenant's "
        "inference budget (a `budget.exceeded` event applies at once).",
    )
    capture_tenants: str = Field(
        default="",
        validation_alias="TUNELOOP_ROUTER_CAPTURE_TENANTS",
        description="Comma-separated tenants whose chat requests and answers are captured "
        "(`inference.captured`) for the flywheel; `*` for every tenant; empty for none.",
    )
    capture_redactor: str = Field(
        default="builtin",
        validation_alias="TUNELOOP_ROUTER_CAPTURE_REDACTOR",
        description="How captured texts are redacted: `builtin` (e-mail addresses and phone "
        "numbers), `none`, or `package.module:function` taking and returning a string.",
    )

    @field_validator("upstreams")
    @classmethod
    def _pairs(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            if "=" not in item or not item.split("=", 1)[1].startswith(("http://", "https://")):
                raise ValueError(f"{item!r} is not `base_model=http://host:port`")
        return value

    @field_validator("capture_redactor")
    @classmethod
    def _redactor(cls, value: str) -> str:
        if value not in {"builtin", "none"} and ":" not in value:
            raise ValueError(f"{value!r} is not `builtin`, `none` or `package.module:function`")
        return value

    def captured_tenants(self) -> frozenset[str]:
        return frozenset(filter(None, (part.strip() for part in self.capture_tenants.split(","))))

    def upstream_map(self) -> dict[str, list[str]]:
        mapping: dict[str, list[str]] = {}
        for item in filter(None, (part.strip() for part in self.upstreams.split(","))):
            base_model, url = item.split("=", 1)
            mapping.setdefault(base_model, []).append(url.rstrip("/"))
        return mapping

    def resolved_adapter_dir(self) -> Path:
        return (self.adapter_dir or self.home / "adapters").resolve()


__all__ = ["RouterSettings"]
