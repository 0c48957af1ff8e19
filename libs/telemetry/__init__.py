"""Traces (OpenTelemetry, configured by ``OTEL_*``), Prometheus metrics, structured logs."""

from libs.telemetry.logs import configure_logging
from libs.telemetry.metrics import metrics_app
from libs.telemetry.tracing import configure_tracing, instrument_http_app

__all__ = ["configure_logging", "configure_tracing", "instrument_http_app", "metrics_app"]
