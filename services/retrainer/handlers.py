"""The retrainer's message handlers: thin, each calls :class:`Retrainer`."""

from faststream.nats import NatsRouter

from contracts.events import (
    DatasetExported,
    DatasetExportFailed,
    EvaluationCompleted,
    EvaluationFailed,
    ExperimentConcluded,
    ExperimentStarted,
    ExperimentStartFailed,
    ExperimentStopped,
    FeedbackRecorded,
    JobCancelled,
    JobCompleted,
    JobFailed,
    ModelDeployed,
    ModelRegistered,
    ModelRolledBack,
)
from libs.messaging import Subjects, event_subscriber
from services.retrainer.retrainer import Retrainer
from services.retrainer.served import remember_alias

SERVICE = "retrainer"


def retrainer_handlers(retrainer: Retrainer, subjects: Subjects) -> NatsRouter:
    router = NatsRouter()

    @event_subscriber(router, subjects, SERVICE, FeedbackRecorded)
    async def on_feedback(event: FeedbackRecorded) -> None:
        retrainer.feedback_recorded(event)

    @event_subscriber(router, subjects, SERVICE, ModelDeployed)
    async def on_deployed(event: ModelDeployed) -> None:
        await remember_alias(retrainer.database, event)

    @event_subscriber(router, subjects, SERVICE, ModelRolledBack)
    async def on_rolled_back(event: ModelRolledBack) -> None:
        await remember_alias(retrainer.database, event)

    @event_subscriber(router, subjects, SERVICE, DatasetExported)
    async def on_exported(event: DatasetExported) -> None:
        await retrainer.dataset_exported(event)

    @event_subscriber(router, subjects, SERVICE, DatasetExportFailed)
    async def on_export_failed(event: DatasetExportFailed) -> None:
        await retrainer.export_failed(event)

    @event_subscriber(router, subjects, SERVICE, JobCompleted)
    async def on_job_completed(event: JobCompleted) -> None:
        await retrainer.job_completed(event)

    @event_subscriber(router, subjects, SERVICE, JobFailed)
    async def on_job_failed(event: JobFailed) -> None:
        await retrainer.job_ended(event)

    @event_subscriber(router, subjects, SERVICE, JobCancelled)
    async def on_job_cancelled(event: JobCancelled) -> None:
        await retrainer.job_ended(event)

    @event_subscriber(router, subjects, SERVICE, ModelRegistered)
    async def on_registered(event: ModelRegistered) -> None:
        await retrainer.model_registered(event)

    @event_subscriber(router, subjects, SERVICE, EvaluationCompleted)
    async def on_evaluation_completed(event: EvaluationCompleted) -> None:
        await retrainer.evaluation_completed(event)

    @event_subscriber(router, subjects, SERVICE, EvaluationFailed)
    async def on_evaluation_failed(event: EvaluationFailed) -> None:
        await retrainer.evaluation_failed(event)

    @event_subscriber(router, subjects, SERVICE, ExperimentStarted)
    async def on_experiment_started(event: ExperimentStarted) -> None:
        await retrainer.experiment_started(event)

    @event_subscriber(router, subjects, SERVICE, ExperimentStartFailed)
    async def on_experiment_refused(event: ExperimentStartFailed) -> None:
        await retrainer.experiment_refused(event)

    @event_subscriber(router, subjects, SERVICE, ExperimentConcluded)
    async def on_experiment_concluded(event: ExperimentConcluded) -> None:
        await retrainer.experiment_concluded(event)

    @event_subscriber(router, subjects, SERVICE, ExperimentStopped)
    async def on_experiment_stopped(event: ExperimentStopped) -> None:
        await retrainer.experiment_stopped(event)

    return router


__all__ = ["retrainer_handlers"]
