"""The evaluator's message handlers: thin, each calls :class:`Experiments` or
:class:`Evaluations`."""

from faststream.nats import NatsRouter

from contracts.commands import StartEvaluation
from contracts.events import ExperimentStarted, FeedbackRecorded, InferenceCompleted
from libs.messaging import Subjects, command_subscriber, event_subscriber
from services.evaluator.evaluations import Evaluations
from services.evaluator.experiments import Experiments

SERVICE = "evaluator"


def evaluator_handlers(
    experiments: Experiments,
    evaluations: Evaluations,
    subjects: Subjects,
    ingest_concurrency: int = 1,
) -> NatsRouter:
    """Experiments' and offline evaluations' handlers; traffic events are handled
    ``ingest_concurrency`` at a time, so those arriving together share a transaction."""
    router = NatsRouter()
    concurrent = {"max_workers": ingest_concurrency} if ingest_concurrency > 1 else {}

    @command_subscriber(router, subjects, StartEvaluation)
    async def on_start_evaluation(command: StartEvaluation) -> None:
        await evaluations.start_by_command(command)

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
