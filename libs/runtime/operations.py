"""Routes every service's HTTP app has: ``/livez`` (its own health) and ``/metrics``."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from libs.runtime.context import ServiceContext
from libs.runtime.health import health_of
from libs.telemetry.metrics import metrics_app


def add_operational_routes(api: FastAPI, context: ServiceContext) -> None:
    api.mount("/metrics", metrics_app(context.metrics), name="metrics")

    @api.get("/livez", include_in_schema=False)
    async def process_health() -> JSONResponse:
        """This process's own health (the gateway's ``/healthz`` covers the whole stack)."""
        reply = await health_of(context)
        return JSONResponse(
            reply.model_dump(mode="json"), status_code=200 if reply.status == "ok" else 503
        )


__all__ = ["add_operational_routes"]
