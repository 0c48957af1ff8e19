"""What the retrainer asks other services over NATS request-reply, and gets no answer to
when they are down (``None``: the clock asks again later)."""

import logging
from typing import Protocol

from contracts.queries import ExampleCountQuery, ExampleCountReply, ServableQuery, ServableReply
from contracts.selection import ExportFilters
from libs.messaging import Bus

logger = logging.getLogger("tuneloop.retrainer.questions")


class Questions(Protocol):
    async def gold_stars(self, tenant: str, filters: ExportFilters) -> int | None:
        """Gold-star examples matching ``filters`` (the exporter counts them)."""
        ...

    async def servable(self, tenant: str, serving_names: list[str]) -> set[str] | None:
        """Which of these the router can serve now."""
        ...


class BusQuestions:
    def __init__(self, bus: Bus, timeout: float) -> None:
        self.bus = bus
        self.timeout = timeout

    async def gold_stars(self, tenant: str, filters: ExportFilters) -> int | None:
        query = ExampleCountQuery(tenant=tenant, filters=filters)
        try:
            reply = await self.bus.ask(
                query, "exporter", query.type, ExampleCountReply, timeout=self.timeout
            )
        except Exception as exc:
            logger.warning("the exporter did not count gold stars: %s", exc)
            return None
        return reply.gold_star

    async def servable(self, tenant: str, serving_names: list[str]) -> set[str] | None:
        query = ServableQuery(tenant=tenant, serving_names=serving_names)
        try:
            reply = await self.bus.ask(
                query, "router", query.type, ServableReply, timeout=self.timeout
            )
        except Exception as exc:
            logger.warning("the router did not say what it serves: %s", exc)
            return None
        return set(reply.servable)


__all__ = ["BusQuestions", "Questions"]
