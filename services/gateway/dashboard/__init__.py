"""The web dashboard: server-rendered pages for people who never read an API, served by the
gateway at ``/`` (static files at ``/static/``). It is a client of the public ``/v1`` API."""

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.gateway.auth import Gatekeeper
from services.gateway.dashboard.cost_pages import cost_routes
from services.gateway.dashboard.live_pages import live_page_routes
from services.gateway.dashboard.pages import dataset_routes, job_routes, overview_routes
from services.gateway.dashboard.release_pages import (
    compare_routes,
    experiment_routes,
    model_routes,
)
from services.gateway.dashboard.rendering import HERE, Pages
from services.gateway.dashboard.retraining_pages import retraining_routes
from services.gateway.dashboard.signin import signin_routes
from services.gateway.dashboard.wizard import wizard_routes
from services.gateway.live import LiveEvents


def mount_dashboard(
    api: FastAPI,
    client: httpx.AsyncClient,
    gatekeeper: Gatekeeper | None = None,
    live: LiveEvents | None = None,
) -> None:
    """Add the pages to ``api``; ``client`` reaches ``/v1`` (the gateway itself). With
    ``gatekeeper`` and ``live``, pages follow their job or A/B test as server-sent events
    (without them, the pages fall back to asking again every few seconds)."""
    pages = Pages(client)
    if gatekeeper is not None and live is not None:
        api.include_router(live_page_routes(gatekeeper, live))
    for routes in (
        signin_routes,
        overview_routes,
        wizard_routes,
        dataset_routes,
        job_routes,
        model_routes,
        compare_routes,
        experiment_routes,
        cost_routes,
        retraining_routes,
    ):
        api.include_router(routes(pages))
    api.mount("/static", StaticFiles(directory=HERE / "static"), name="dashboard-static")


def gateway_client(api: FastAPI) -> httpx.AsyncClient:
    """A client of ``api``'s own routes, in process: the same checks as any API call."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api),
        base_url="http://gateway",
        timeout=httpx.Timeout(60.0),
    )


__all__ = ["gateway_client", "mount_dashboard"]
