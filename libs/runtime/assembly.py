"""Wire one service: broker, bus, database, artifact store, routers and HTTP app."""

from dataclasses import dataclass

from fastapi import FastAPI
from faststream.nats import NatsBroker, NatsRouter
from opentelemetry.sdk.trace import TracerProvider

from libs.artifacts import LocalArtifactStore
from libs.config import ServiceSettings
from libs.messaging import Bus, OutboxRelay, Subjects, create_broker, event_publisher
from libs.runtime.context import ServiceContext
from libs.runtime.definition import ServiceDefinition
from libs.runtime.health import VERSION, health_router
from libs.runtime.operations import add_operational_routes
from libs.storage import Database
from libs.telemetry.metrics import new_registry
from libs.telemetry.tracing import instrument_http_app
from libs.tenancy import IdentitySigner, protect

EMBEDDED_PLACEHOLDER_URL = "nats://127.0.0.1:4222"


@dataclass
class AssembledService:
    context: ServiceContext
    broker: NatsBroker
    api: FastAPI


def publishers_router(definition: ServiceDefinition, subjects: Subjects) -> NatsRouter:
    router = NatsRouter()
    for event in definition.emits:
        event_publisher(router, subjects, event)
    return router


def assemble(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    tracer_provider: TracerProvider | None = None,
) -> AssembledService:
    """Build everything without connecting to anything yet."""
    subjects = Subjects(settings.subject_prefix)
    metrics = new_registry()
    broker = create_broker(
        settings.nats_url or EMBEDDED_PLACEHOLDER_URL,
        subjects,
        max_attempts=settings.max_delivery_attempts,
        tracer_provider=tracer_provider,
        metrics=metrics,
        service=definition.name,
    )
    bus = Bus(broker, subjects)
    database = Database(settings.resolved_database_url())
    secret = settings.resolved_internal_secret()
    signer = IdentitySigner(secret, settings.identity_max_skew_seconds) if secret else None
    context = ServiceContext(
        name=definition.name,
        settings=settings,
        bus=bus,
        database=database,
        artifacts=LocalArtifactStore(settings.resolved_artifacts_dir()),
        outbox=OutboxRelay(database, bus),
        metrics=metrics,
        identity=signer,
    )
    broker.include_router(definition.build_router(context))
    broker.include_router(health_router(context))
    broker.include_router(publishers_router(definition, subjects))
    api = (
        definition.build_api(context)
        if definition.build_api
        else FastAPI(title=f"tuneloop {definition.name}", version=VERSION)
    )
    protect(api, signer)
    add_operational_routes(api, context)
    instrument_http_app(api, tracer_provider)
    return AssembledService(context, broker, api)


__all__ = ["AssembledService", "assemble"]
