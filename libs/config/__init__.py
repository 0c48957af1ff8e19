"""Settings read from the environment: the only place tuneloop reads it."""

from libs.config.settings import (
    INTERNAL_SECRET_FILE,
    ConfigurationError,
    ServiceSettings,
    StackSettings,
    TelemetrySettings,
    TuneloopSettings,
    load_settings,
)

__all__ = [
    "INTERNAL_SECRET_FILE",
    "ConfigurationError",
    "ServiceSettings",
    "StackSettings",
    "TelemetrySettings",
    "TuneloopSettings",
    "load_settings",
]
