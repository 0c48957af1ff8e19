"""How a service declares itself: its name, settings, message handlers and HTTP API."""

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI
from faststream.nats import NatsRouter

from contracts.envelope import Event
from libs.config import ServiceSettings
from libs.runtime.context import ServiceContext


@dataclass(frozen=True)
class ServiceDefinition:
    """Everything the runtime needs to run one service.

    ``build_router`` registers the service's subscribers on a router given its context;
    ``build_api`` (optional) returns the FastAPI app of a service that serves an HTTP API.
    ``emits`` lists the events it publishes, documented in the AsyncAPI spec.
    """

    name: str
    settings: type[ServiceSettings]
    build_router: Callable[[ServiceContext], NatsRouter]
    build_api: Callable[[ServiceContext], FastAPI] | None = None
    emits: tuple[type[Event], ...] = field(default_factory=tuple)


__all__ = ["ServiceDefinition"]
