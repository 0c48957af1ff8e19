"""The health query every service answers over NATS request-reply."""

import asyncio
import os

from faststream.nats import NatsRouter

from contracts.queries import CheckResult, HealthQuery, HealthReply
from libs.messaging import query_subscriber
from libs.runtime.context import ServiceContext

VERSION = "0.1.0"
CHECK_TIMEOUT_SECONDS = 2.0


async def database_check(context: ServiceContext) -> CheckResult:
    try:
        await asyncio.wait_for(context.database.ping(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return CheckResult(ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])
    return CheckResult(ok=True)


async def health_of(context: ServiceContext) -> HealthReply:
    checks = {"nats": CheckResult(ok=True), "database": await database_check(context)}
    return HealthReply(
        service=context.name,
        status="ok" if all(c.ok for c in checks.values()) else "degraded",
        version=VERSION,
        pid=os.getpid(),
        started_at=context.started_at,
        http_url=context.http_url,
        checks=checks,
    )


def health_router(context: ServiceContext) -> NatsRouter:
    router = NatsRouter()

    @query_subscriber(router, context.bus.subjects, context.name, "health")
    async def answer_health(query: HealthQuery) -> HealthReply:
        return await health_of(context)

    return router


__all__ = ["VERSION", "health_of", "health_router"]
