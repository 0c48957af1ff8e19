"""The dependencies a service's handlers and routes get, wired once per process."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, cast

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
    parts: dict[str, object] = field(default_factory=dict)
    """What the service's handlers and API share, built once (see :func:`shared_part`)."""


Part = TypeVar("Part")


def shared_part(context: ServiceContext, name: str, build: Callable[[], Part]) -> Part:
    """The context's one ``name``, built on first use: the NATS handlers and the HTTP API
    of a process share it (and whatever it caches)."""
    if name not in context.parts:
        context.parts[name] = build()
    return cast(Part, context.parts[name])


__all__ = ["ServiceContext", "shared_part"]
