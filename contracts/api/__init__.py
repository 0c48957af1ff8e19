"""HTTP request and response bodies of the public API."""

from contracts.api.errors import ErrorBody
from contracts.api.health import GatewayHealth, ServiceHealth

__all__ = ["ErrorBody", "GatewayHealth", "ServiceHealth"]
