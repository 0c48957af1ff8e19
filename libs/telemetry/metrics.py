"""Prometheus metrics: one registry per process, served at ``/metrics``."""

from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector


def new_registry() -> CollectorRegistry:
    """A registry with the standard process, GC and platform collectors."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def metrics_app(registry: CollectorRegistry) -> Any:
    """An ASGI app serving ``registry`` in the Prometheus text format."""
    return make_asgi_app(registry=registry)


__all__ = ["metrics_app", "new_registry"]
