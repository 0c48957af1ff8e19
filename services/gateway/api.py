"""The gateway's HTTP routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from contracts.api.health import GatewayHealth
from libs.runtime import ServiceContext
from libs.runtime.health import VERSION
from libs.tenancy import IdentitySigner
from services.gateway.admin_api import admin_routes, denied_handler
from services.gateway.auth import Denied, Gatekeeper
from services.gateway.dashboard import gateway_client, mount_dashboard
from services.gateway.directory import ServiceDirectory
from services.gateway.health import AskHealth, stack_health
from services.gateway.keystore import AuditLog, KeyStore, key_store_of
from services.gateway.live import LiveEvents
from services.gateway.live_api import live_routes
from services.gateway.proxy import FrontDoor, proxy_routes
from services.gateway.settings import GatewaySettings
from services.gateway.webhook_api import webhook_routes
from services.gateway.webhook_targets import WebhookTargets
from services.gateway.webhooks import Webhooks


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


def signer_of(settings: GatewaySettings) -> IdentitySigner | None:
    """What the gateway signs forwarded identities with (``None``: it forwards nothing)."""
    secret = settings.resolved_internal_secret()
    return IdentitySigner(secret) if secret else None


def create_api(
    ask: AskHealth,
    settings: GatewaySettings,
    keys: KeyStore,
    audit: AuditLog,
    live: LiveEvents | None = None,
    webhooks: Webhooks | None = None,
) -> FastAPI:
    targets = WebhookTargets(settings.allowed_webhook_targets())
    client = httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=5.0))
    gatekeeper = Gatekeeper(keys, enabled=settings.auth)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()
        if live is not None:
            await live.close()
        await dashboard_client.aclose()

    api = FastAPI(
        title="tuneloop",
        version=VERSION,
        lifespan=lifespan,
        description="The closed loop of LLM fine-tuning: data, training, registry, A/B tests, "
        "promotion and ROI. Every `/v1/...` request needs `Authorization: Bearer <key>`; "
        "paths not listed here are served by the service that owns them "
        "(see contracts/openapi/).",
    )
    api.add_exception_handler(Denied, denied_handler)
    api.include_router(health_routes(ask, settings.health_timeout_seconds))
    api.include_router(admin_routes(gatekeeper, keys, audit, settings.operator_tenant))
    if live is not None:
        api.include_router(live_routes(gatekeeper, live))
    if webhooks is not None:
        api.include_router(webhook_routes(gatekeeper, webhooks, audit, targets))
    front = FrontDoor(gatekeeper, audit, settings.max_body_bytes, signer_of(settings))
    api.include_router(
        proxy_routes(ServiceDirectory(ask, settings.health_timeout_seconds), client, front)
    )
    dashboard_client = gateway_client(api)
    mount_dashboard(api, dashboard_client, gatekeeper, live)
    return api


def build_api(context: ServiceContext) -> FastAPI:
    from services.gateway.health import nats_health_asker

    settings = context.settings
    assert isinstance(settings, GatewaySettings)
    return create_api(
        nats_health_asker(context.bus.ask),
        settings,
        key_store_of(context),
        AuditLog(context.database),
        LiveEvents(settings.nats_url or "", context.bus.subjects),
        Webhooks(context.database),
    )


__all__ = ["build_api", "create_api"]
