"""Settings read from the environment: the only place tuneloop reads it."""

from libs.config.settings import (
    ConfigurationError,
    ServiceSettings,
    StackSettings,
    TelemetrySettings,
    TuneloopSettings,
    load_settings,
)

__all__ = [
    "ConfigurationError",
    "ServiceSettings",
    "StackSettings",
    "TelemetrySettings",
    "TuneloopSettings",
    "load_settings",
]
