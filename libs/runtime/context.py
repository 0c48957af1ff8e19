"""The dependencies a service's handlers and routes get, wired once per process."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry

from contracts.envelope import utc_now
from libs.artifacts import LocalArtifactStore
from libs.config import ServiceSettings
from libs.messaging import Bus, OutboxRelay
from libs.storage import Database
from libs.tenancy import IdentitySigner


@dataclass
class ServiceContext:
    name: str
    settings: ServiceSettings
    bus: Bus
    database: Database
    artifacts: LocalArtifactStore
    outbox: OutboxRelay
    metrics: CollectorRegistry
    identity: IdentitySigner | None = None
    """Signs the identity of requests to other services (``None``: no internal secret)."""
    started_at: datetime = field(default_factory=utc_now)
    http_url: str | None = None
    startup_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Run after the broker starts: background work a service keeps going while it runs."""
    shutdown_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Run first when the service stops."""


__all__ = ["ServiceContext"]
