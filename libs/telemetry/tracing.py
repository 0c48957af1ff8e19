"""OpenTelemetry tracing set up from the standard ``OTEL_*`` variables.

``OTEL_TRACES_EXPORTER`` chooses ``none`` (the default), ``console`` or ``otlp`` (HTTP/protobuf,
endpoint from ``OTEL_EXPORTER_OTLP_ENDPOINT``). ``OTEL_SDK_DISABLED=true`` turns it all off.
Trace context crosses NATS in message headers (FastStream's telemetry middleware) and HTTP in
``traceparent`` headers.
"""

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from libs.config.settings import TelemetrySettings


class UnknownTracesExporter(ValueError):
    pass


def _exporter(name: str) -> SpanExporter | None:
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise UnknownTracesExporter(
        f"OTEL_TRACES_EXPORTER={name!r} is not supported; use none, console or otlp"
    )


def configure_tracing(
    service: str, settings: TelemetrySettings | None = None
) -> TracerProvider | None:
    """Install a tracer provider for this process; ``None`` when tracing is off."""
    settings = settings or TelemetrySettings()
    if settings.sdk_disabled:
        return None
    exporter = _exporter(settings.traces_exporter)
    resource = Resource.create({SERVICE_NAME: settings.service_name or f"tuneloop-{service}"})
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def instrument_http_app(app: Any, provider: TracerProvider | None) -> None:
    """Trace every HTTP request of a FastAPI app, continuing incoming ``traceparent``."""
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="livez,metrics")


__all__ = ["UnknownTracesExporter", "configure_tracing", "instrument_http_app"]
