"""The evaluator service's definition: what it consumes, emits and serves."""

from faststream.nats import NatsRouter

from contracts.events import EvaluationCompleted, ExperimentConcluded, ExperimentUpdated
from libs.runtime import ServiceContext, ServiceDefinition
from services.evaluator.settings import EvaluatorSettings


def build_router(context: ServiceContext) -> NatsRouter:
    """Message handlers of the evaluator."""
    return NatsRouter()


DEFINITION = ServiceDefinition(
    name="evaluator",
    settings=EvaluatorSettings,
    build_router=build_router,
    emits=(
        EvaluationCompleted,
        ExperimentUpdated,
        ExperimentConcluded,
    ),
)

__all__ = ["DEFINITION", "build_router"]
