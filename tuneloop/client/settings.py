"""Where the CLI finds the gateway and its API key: the environment, then a config file.

Order of precedence, first wins:

- ``TUNELOOP_URL`` / ``TUNELOOP_API_KEY`` in the environment;
- ``url`` / ``api_key`` in the TOML file ``$TUNELOOP_CONFIG`` (default
  ``~/.config/tuneloop/config.toml``);
- ``http://127.0.0.1:8000``, and the key ``tuneloop up`` wrote to ``$TUNELOOP_HOME/admin.key``.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_CONFIG_FILE = Path("~/.config/tuneloop/config.toml")
CONFIG_KEYS = {"url", "api_key", "timeout_seconds"}


class ClientConfigError(Exception):
    """The config file cannot be used; the message says which file and why."""


class ClientSettings(BaseSettings):
    """The variables the command line reads to reach the gateway."""

    model_config = SettingsConfigDict(env_prefix="TUNELOOP_", extra="ignore", frozen=True)

    url: str | None = Field(
        default=None, description="Gateway URL the CLI talks to (default http://127.0.0.1:8000)."
    )
    api_key: str | None = Field(
        default=None, description="API key the CLI sends; default the key in <home>/admin.key."
    )
    config: Path | None = Field(
        default=None,
        description="TOML file with `url`, `api_key`, `timeout_seconds` for the CLI "
        "(default ~/.config/tuneloop/config.toml).",
    )
    home: Path = Field(default=Path(".tuneloop"), description="Where admin.key is looked for.")


@dataclass(frozen=True)
class ClientConfig:
    url: str
    api_key: str | None
    timeout_seconds: float = 60.0
    key_source: str = "none"


def read_config_file(path: Path, explicit: bool) -> dict[str, object]:
    path = path.expanduser()
    if not path.exists():
        if explicit:
            raise ClientConfigError(f"TUNELOOP_CONFIG names {path}, which does not exist")
        return {}
    try:
        loaded = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ClientConfigError(f"cannot read the config file {path}: {exc}") from None
    unknown = sorted(set(loaded) - CONFIG_KEYS)
    if unknown:
        allowed = ", ".join(sorted(CONFIG_KEYS))
        raise ClientConfigError(
            f"unknown key(s) {', '.join(unknown)} in {path}; allowed: {allowed}"
        )
    return loaded


def key_from_home(home: Path) -> str | None:
    path = home / "admin.key"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def resolve_config(settings: ClientSettings) -> ClientConfig:
    """Merge the environment, the config file and the defaults."""
    file = read_config_file(settings.config or DEFAULT_CONFIG_FILE, settings.config is not None)
    url = settings.url or str(file.get("url") or DEFAULT_URL)
    timeout = file.get("timeout_seconds", 60.0)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ClientConfigError("timeout_seconds in the config file must be a positive number")
    key: str | None
    if settings.api_key:
        key, source = settings.api_key, "TUNELOOP_API_KEY"
    elif file.get("api_key"):
        key, source = str(file["api_key"]), "the config file"
    else:
        key = key_from_home(settings.home)
        source = f"{settings.home / 'admin.key'}" if key else "none"
    return ClientConfig(url.rstrip("/"), key, float(timeout), source)


def load_client_config() -> ClientConfig:
    return resolve_config(ClientSettings())


__all__ = [
    "DEFAULT_URL",
    "ClientConfig",
    "ClientConfigError",
    "ClientSettings",
    "load_client_config",
    "resolve_config",
]
