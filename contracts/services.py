"""The services of tuneloop, by the names used in subjects, stream names and health checks."""

from typing import Final, Literal

ServiceName = Literal[
    "exporter", "trainer", "registry", "router", "evaluator", "cost", "retrainer", "gateway"
]

SERVICE_NAMES: Final[tuple[ServiceName, ...]] = (
    "exporter",
    "trainer",
    "registry",
    "router",
    "evaluator",
    "cost",
    "retrainer",
    "gateway",
)

__all__ = ["SERVICE_NAMES", "ServiceName"]
