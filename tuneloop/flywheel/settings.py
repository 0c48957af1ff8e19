"""Settings of the flywheel client: where the gateway is, the key, and capture for ``up``."""

from pydantic import Field, SecretStr

from libs.config import TuneloopSettings

FLYWHEEL_TENANT = "default"
"""The tenant of the first admin key, which the flywheel uses."""


class FlywheelSettings(TuneloopSettings):
    url: str | None = Field(
        default=None,
        description="The gateway's URL for clients (TUNELOOP_URL); else the running stack's.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="API key sent as `Authorization: Bearer` (TUNELOOP_API_KEY); else the "
        "admin key `tuneloop up` wrote to <home>/admin.key.",
    )
    router_capture_tenants: str = Field(
        default="",
        description="The router's capture opt-in (TUNELOOP_ROUTER_CAPTURE_TENANTS); "
        "`tuneloop up --flywheel` adds the flywheel's tenant to it.",
    )

    def capture_with_flywheel(self) -> str:
        tenants = [t.strip() for t in self.router_capture_tenants.split(",") if t.strip()]
        if "*" in tenants or FLYWHEEL_TENANT in tenants:
            return ",".join(tenants)
        return ",".join([*tenants, FLYWHEEL_TENANT])

    def key(self) -> str | None:
        """The key to send: the setting, else ``<home>/admin.key`` when it exists."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        path = self.home / "admin.key"
        return path.read_text().strip() if path.is_file() else None


__all__ = ["FLYWHEEL_TENANT", "FlywheelSettings"]
