"""The router's definition: one set of components per process, shared by handlers and API."""

import asyncio

import httpx
from fastapi import FastAPI
from faststream.nats import NatsRouter

from contracts.events import (
    ExperimentRamped,
    ExperimentStarted,
    ExperimentStartFailed,
    ExperimentStopped,
    FeedbackRecorded,
    InferenceCompleted,
    InteractionCaptured,
    ModelRouted,
)
from contracts.queries import (
    AuthenticateQuery,
    AuthenticateReply,
    BudgetCheckQuery,
    BudgetCheckReply,
)
from libs.runtime import ServiceContext, ServiceDefinition, shared_part
from services.router.access import KeyChecker
from services.router.adapters import AdapterManager
from services.router.api import create_api
from services.router.budgets import AskBudget, BudgetGuard
from services.router.capture import PayloadCapture, load_redactor
from services.router.catalog import Catalog
from services.router.deployments import Deployments
from services.router.experiments import Experiments
from services.router.handlers import router_handlers
from services.router.inference import InferenceService
from services.router.recorder import InferenceRecorder
from services.router.settings import RouterSettings
from services.router.upstreams import Upstream, UpstreamPool


class RouterComponents:
    def __init__(self, context: ServiceContext) -> None:
        settings = context.settings
        assert isinstance(settings, RouterSettings)
        self.settings = settings
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(600.0, connect=3.0),
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=128),
        )
        mapping = settings.upstream_map()
        self.pool = UpstreamPool(mapping, self.client)
        self.catalog = Catalog(context.database, set(mapping) - {"*"})
        self.adapters = AdapterManager(context.artifacts, settings.resolved_adapter_dir())
        self.recorder = InferenceRecorder(context.bus)
        self.budgets = BudgetGuard(budget_asker(context), settings.budget_check_seconds)
        self.capture = PayloadCapture(
            context.bus, settings.captured_tenants(), load_redactor(settings.capture_redactor)
        )
        self.inference = InferenceService(
            self.catalog,
            self.pool,
            self.adapters,
            self.recorder,
            self._remote(),
            settings.connect_retries,
            capture=self.capture,
            budgets=self.budgets,
        )
        self.deployments = Deployments(
            context.database, self.pool, self.adapters, self._changed(context), context.bus
        )
        self.experiments = Experiments(context.database, context.bus, self._changed(context))
        self.keys = key_checker(context, settings.require_key)
        context.startup_hooks.append(self.start)
        context.shutdown_hooks.append(self.stop)

    def _remote(self) -> Upstream | None:
        if self.settings.remote_base_url is None:
            return None
        key = self.settings.remote_api_key
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(600.0, connect=5.0),
            headers=({"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}),
        )
        return Upstream(self.settings.remote_base_url.rstrip("/"), client)

    def _changed(self, context: ServiceContext):  # type: ignore[no-untyped-def]
        def changed() -> None:
            self.catalog.invalidate()
            context.outbox.notify()

        return changed

    async def start(self) -> None:
        self.recorder.start()
        self.capture.start()
        await self.deployments.reconcile()

    async def stop(self) -> None:
        await self.budgets.close()
        await self.recorder.stop()
        await self.capture.stop()
        self.pool.close()
        await asyncio.sleep(0)  # the aborted upstream connections close their sockets
        await self.client.aclose()


def components_of(context: ServiceContext) -> RouterComponents:
    """The process's components (the handlers and the API share one set)."""
    return shared_part(context, "router", lambda: RouterComponents(context))


def build_router(context: ServiceContext) -> NatsRouter:
    parts = components_of(context)
    return router_handlers(
        parts.deployments, parts.experiments, parts.budgets, parts.keys, context.bus.subjects
    )


def budget_asker(context: ServiceContext) -> AskBudget:
    """Asks the cost service whether a tenant may spend on inference now."""

    async def ask(query: BudgetCheckQuery) -> BudgetCheckReply:
        return await context.bus.ask(query, "cost", query.type, BudgetCheckReply, timeout=1.0)

    return ask


def key_checker(context: ServiceContext, require_key: bool) -> KeyChecker:
    """Checks direct callers' keys by asking the gateway over NATS."""

    async def ask(key: str) -> AuthenticateReply:
        query = AuthenticateQuery(key=key)
        return await context.bus.ask(query, "gateway", "authenticate", AuthenticateReply)

    return KeyChecker(ask, require_key)


def build_api(context: ServiceContext) -> FastAPI:
    parts = components_of(context)
    return create_api(
        parts.inference,
        parts.experiments,
        context.bus,
        parts.settings.max_request_bytes,
        parts.settings.max_tokens_limit,
        parts.keys,
    )


DEFINITION = ServiceDefinition(
    name="router",
    settings=RouterSettings,
    build_router=build_router,
    build_api=build_api,
    emits=(
        InferenceCompleted,
        InteractionCaptured,
        FeedbackRecorded,
        ExperimentStarted,
        ExperimentStartFailed,
        ExperimentRamped,
        ExperimentStopped,
        ModelRouted,
    ),
)

__all__ = ["DEFINITION", "build_api", "build_router"]
