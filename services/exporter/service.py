"""The exporter service's definition: what it consumes, emits and serves."""

from faststream.nats import NatsRouter

from contracts.events import DatasetExported, DatasetExportFailed
from libs.runtime import ServiceContext, ServiceDefinition, shared_part
from services.exporter.api import build_api
from services.exporter.export import ExportTools
from services.exporter.handlers import register_handlers
from services.exporter.runtime import DEFAULT_CONTEXT_LENGTH, Exporter, exporter_from_settings
from services.exporter.settings import ExporterSettings
from services.exporter.tokens import (
    base_model_tokenizer,
    load_token_counter,
    model_context_length,
)


def exporter_of(context: ServiceContext) -> Exporter:
    """The one :class:`Exporter` of a service context (the tokenizer is loaded once)."""
    return shared_part(context, "exporter", lambda: new_exporter(context))


def new_exporter(context: ServiceContext) -> Exporter:
    settings = context.settings
    if not isinstance(settings, ExporterSettings):
        settings = ExporterSettings.model_validate(settings.model_dump())
    tokenizer = settings.exporter_tokenizer or base_model_tokenizer(
        settings.base_model, settings.resolved_models_dir()
    )
    if settings.exporter_context_length is None:
        length = model_context_length(tokenizer) or DEFAULT_CONTEXT_LENGTH
        settings = settings.model_copy(update={"exporter_context_length": length})
    tools = ExportTools(
        database=context.database,
        artifacts=context.artifacts,
        bus=context.bus,
        outbox=context.outbox,
        counter=load_token_counter(tokenizer, background=True),
        external_databases=settings.exporter_external_databases,
        external_timeout_seconds=settings.exporter_external_timeout_seconds,
    )
    exporter = exporter_from_settings(settings, tools, tokenizer)

    async def start() -> None:
        exporter.runner.start_sweeping(exporter)

    async def stop() -> None:
        await exporter.runner.stop(exporter)
        await exporter.intake.close()

    context.startup_hooks.append(start)
    context.shutdown_hooks.append(stop)
    return exporter


def build_router(context: ServiceContext) -> NatsRouter:
    """Message handlers of the exporter."""
    router = NatsRouter()
    register_handlers(router, context.bus.subjects, exporter_of(context))
    return router


DEFINITION = ServiceDefinition(
    name="exporter",
    settings=ExporterSettings,
    build_router=build_router,
    build_api=build_api,
    emits=(DatasetExported, DatasetExportFailed),
)

__all__ = ["DEFINITION", "build_router", "exporter_of"]
