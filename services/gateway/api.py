"""The gateway's HTTP routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from contracts.api.health import GatewayHealth
from libs.runtime import ServiceContext
from libs.runtime.health import VERSION
from services.gateway.dashboard import gateway_client, mount_dashboard
from services.gateway.directory import ServiceDirectory
from services.gateway.health import AskHealth, stack_health
from services.gateway.proxy import proxy_routes


def health_routes(ask: AskHealth, timeout: float) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/healthz",
        response_model=GatewayHealth,
        responses={
            503: {"model": GatewayHealth, "description": "At least one service is not healthy."}
        },
    )
    async def healthz() -> JSONResponse:
        """Health of every service, asked over NATS; 503 unless all are ``ok``."""
        health = await stack_health(ask, timeout)
        return JSONResponse(
            health.model_dump(mode="json"), status_code=200 if health.status == "ok" else 503
        )

    return router


def create_api(ask: AskHealth, timeout: float) -> FastAPI:
    client = httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=5.0))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()
        await dashboard_client.aclose()

    api = FastAPI(
        title="tuneloop",
        version=VERSION,
        lifespan=lifespan,
        description="The closed loop of LLM fine-tuning: data, training, registry, A/B tests, "
        "promotion and ROI. Every `/v1/...` path is served by the service that owns it "
        "(see contracts/openapi/).",
    )
    api.include_router(health_routes(ask, timeout))
    api.include_router(proxy_routes(ServiceDirectory(ask, timeout), client))
    dashboard_client = gateway_client(api)
    mount_dashboard(api, dashboard_client)
    return api


def build_api(context: ServiceContext) -> FastAPI:
    from services.gateway.health import nats_health_asker
    from services.gateway.settings import GatewaySettings

    settings = context.settings
    timeout = settings.health_timeout_seconds if isinstance(settings, GatewaySettings) else 1.5
    return create_api(nats_health_asker(context.bus.ask), timeout)


__all__ = ["build_api", "create_api"]
