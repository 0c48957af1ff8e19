"""The evaluator's message handlers: thin, each calls :class:`Experiments`."""

from faststream.nats import NatsRouter

from contracts.events import ExperimentStarted, FeedbackRecorded, InferenceCompleted
from libs.messaging import Subjects, event_subscriber
from services.evaluator.experiments import Experiments

SERVICE = "evaluator"


def evaluator_handlers(
    experiments: Experiments, subjects: Subjects, ingest_concurrency: int = 1
) -> NatsRouter:
    """Experiments' handlers; traffic events are handled ``ingest_concurrency`` at a time, so
    those arriving together share a transaction."""
    router = NatsRouter()
    concurrent = {"max_workers": ingest_concurrency} if ingest_concurrency > 1 else {}

    @event_subscriber(router, subjects, SERVICE, ExperimentStarted)
    async def on_experiment_started(event: ExperimentStarted) -> None:
        await experiments.start(event)

    @event_subscriber(router, subjects, SERVICE, InferenceCompleted, **concurrent)
    async def on_inference_completed(event: InferenceCompleted) -> None:
        await experiments.record_inference(event)

    @event_subscriber(router, subjects, SERVICE, FeedbackRecorded, **concurrent)
    async def on_feedback_recorded(event: FeedbackRecorded) -> None:
        await experiments.record_feedback(event)

    return router


__all__ = ["evaluator_handlers"]
