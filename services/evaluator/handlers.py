"""The evaluator's message handlers: thin, each calls :class:`Experiments`."""

from faststream.nats import NatsRouter

from contracts.events import ExperimentStarted, FeedbackRecorded, InferenceCompleted
from libs.messaging import Subjects, event_subscriber
from services.evaluator.experiments import Experiments

SERVICE = "evaluator"


def evaluator_handlers(experiments: Experiments, subjects: Subjects) -> NatsRouter:
    router = NatsRouter()

    @event_subscriber(router, subjects, SERVICE, ExperimentStarted)
    async def on_experiment_started(event: ExperimentStarted) -> None:
        await experiments.start(event)

    @event_subscriber(router, subjects, SERVICE, InferenceCompleted)
    async def on_inference_completed(event: InferenceCompleted) -> None:
        await experiments.record_inference(event)

    @event_subscriber(router, subjects, SERVICE, FeedbackRecorded)
    async def on_feedback_recorded(event: FeedbackRecorded) -> None:
        await experiments.record_feedback(event)

    return router


__all__ = ["evaluator_handlers"]
