"""The stack's health: every service asked over NATS at once, with a deadline."""

import asyncio
import time
from collections.abc import Awaitable, Callable

from contracts.api.health import GatewayHealth, ServiceHealth
from contracts.queries import HealthQuery, HealthReply
from contracts.services import SERVICE_NAMES

AskHealth = Callable[[str, float], Awaitable[HealthReply]]


def as_service_health(reply: HealthReply, latency_ms: float) -> ServiceHealth:
    return ServiceHealth(
        status=reply.status,
        version=reply.version,
        pid=reply.pid,
        http_url=reply.http_url,
        checks={
            name: "ok" if check.ok else (check.detail or "failing")
            for name, check in reply.checks.items()
        },
        latency_ms=round(latency_ms, 2),
    )


async def probe(ask: AskHealth, service: str, timeout: float) -> ServiceHealth:
    started = time.perf_counter()
    try:
        reply = await ask(service, timeout)
    except Exception as exc:
        reason = "no answer in time" if isinstance(exc, TimeoutError) else str(exc) or repr(exc)
        return ServiceHealth(status="unreachable", checks={"nats": reason[:300]})
    return as_service_health(reply, (time.perf_counter() - started) * 1000)


async def stack_health(
    ask: AskHealth, timeout: float, services: tuple[str, ...] = SERVICE_NAMES
) -> GatewayHealth:
    results = await asyncio.gather(*(probe(ask, name, timeout) for name in services))
    by_service = dict(zip(services, results, strict=True))
    healthy = all(result.status == "ok" for result in results)
    return GatewayHealth(status="ok" if healthy else "degraded", services=by_service)


def nats_health_asker(bus_ask: Callable[..., Awaitable[HealthReply]]) -> AskHealth:
    async def ask(service: str, timeout: float) -> HealthReply:
        return await bus_ask(HealthQuery(), service, "health", HealthReply, timeout=timeout)

    return ask


__all__ = ["AskHealth", "nats_health_asker", "probe", "stack_health"]
