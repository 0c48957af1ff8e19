"""A client of the gateway for the command line and scripts."""

from tuneloop.client.errors import ApiError, GatewayUnreachable, RowError
from tuneloop.client.http import ApiClient
from tuneloop.client.settings import (
    DEFAULT_URL,
    ClientConfig,
    ClientConfigError,
    ClientSettings,
    load_client_config,
    resolve_config,
)

__all__ = [
    "DEFAULT_URL",
    "ApiClient",
    "ApiError",
    "ClientConfig",
    "ClientConfigError",
    "ClientSettings",
    "GatewayUnreachable",
    "RowError",
    "load_client_config",
    "resolve_config",
]
