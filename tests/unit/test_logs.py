"""Structured logs: one JSON object per line, with the active trace and span ids."""

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from libs.telemetry.logs import JsonFormatter, TraceContextFilter

pytestmark = pytest.mark.unit


def formatted(record: logging.LogRecord) -> dict[str, object]:
    TraceContextFilter().filter(record)
    result: dict[str, object] = json.loads(JsonFormatter("registry").format(record))
    return result


def test_a_log_line_inside_a_span_carries_its_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handle") as span:
        record = logging.makeLogRecord(
            {
                "msg": "deployed %s",
                "args": ("v2",),
                "levelname": "INFO",
                "name": "tuneloop.registry",
                "alias": "production",
            }
        )
        line = formatted(record)
    context = span.get_span_context()
    assert line["message"] == "deployed v2"
    assert line["service"] == "registry"
    assert line["alias"] == "production"
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"


def test_outside_a_span_the_ids_are_empty() -> None:
    line = formatted(logging.makeLogRecord({"msg": "idle", "levelname": "INFO"}))
    assert line["trace_id"] == ""
