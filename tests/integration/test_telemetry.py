"""Traces cross NATS: the consumer's span continues the publisher's trace."""

import pytest
from faststream.nats import NatsRouter
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts.events import JobFailed
from libs.messaging import Bus, Subjects, create_broker, ensure_streams, event_subscriber
from tests.polling import eventually

pytestmark = pytest.mark.integration


async def test_the_handler_runs_in_the_publishers_trace(nats_url: str, subjects: Subjects) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: list[int] = []
    router = NatsRouter()

    @event_subscriber(router, subjects, "registry", JobFailed)
    async def on_failed(event: JobFailed) -> None:
        seen.append(trace.get_current_span().get_span_context().trace_id)

    broker = create_broker(
        nats_url, subjects, max_attempts=3, tracer_provider=provider, service="test"
    )
    broker.include_router(router)
    connection = await broker.connect()
    await ensure_streams(connection.jetstream(), subjects)
    await broker.start()
    try:
        with provider.get_tracer("test").start_as_current_span("request") as root:
            await Bus(broker, subjects).publish_event(
                JobFailed(job_id="traced", error={"code": "x", "message": "y"})
            )
        await eventually(lambda: bool(seen), what="event handled")
    finally:
        await broker.stop()
    trace_id = root.get_span_context().trace_id
    assert seen == [trace_id]
    spans = exporter.get_finished_spans()
    assert {s.context.trace_id for s in spans} == {trace_id}
    assert any(s.kind == trace.SpanKind.CONSUMER for s in spans)
    assert any(s.kind == trace.SpanKind.PRODUCER for s in spans)
