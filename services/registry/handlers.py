"""The registry's message handlers: thin, each calls :class:`Registry`."""

from faststream.nats import NatsRouter

from contracts.api.registry import ArchiveRequest, DeployRequest, RegisterRequest, RollbackRequest
from contracts.commands import ArchiveModel, DeployModel, RegisterModel, RollBackModel
from contracts.events import (
    CostRecorded,
    EvaluationCompleted,
    ExperimentConcluded,
    ExperimentStarted,
    ExperimentStopped,
    JobCancelled,
    JobCompleted,
    JobCreated,
    JobFailed,
)
from libs.messaging import PermanentError, Subjects, command_subscriber, event_subscriber
from services.registry.errors import RegistryError
from services.registry.registry import Registry

SERVICE = "registry"


def registry_handlers(registry: Registry, subjects: Subjects) -> NatsRouter:
    router = NatsRouter()

    @event_subscriber(router, subjects, SERVICE, JobCompleted)
    async def on_job_completed(event: JobCompleted) -> None:
        await registry.register_job_output(event)

    @event_subscriber(router, subjects, SERVICE, JobCreated)
    async def on_job_created(event: JobCreated) -> None:
        await registry.track_job(event)

    @event_subscriber(router, subjects, SERVICE, JobFailed)
    async def on_job_failed(event: JobFailed) -> None:
        await registry.track_job(event)

    @event_subscriber(router, subjects, SERVICE, JobCancelled)
    async def on_job_cancelled(event: JobCancelled) -> None:
        await registry.track_job(event)

    @event_subscriber(router, subjects, SERVICE, CostRecorded)
    async def on_cost_recorded(event: CostRecorded) -> None:
        await registry.attach_cost(event)

    @event_subscriber(router, subjects, SERVICE, EvaluationCompleted)
    async def on_evaluation_completed(event: EvaluationCompleted) -> None:
        await registry.attach_evaluation(event)

    @event_subscriber(router, subjects, SERVICE, ExperimentStarted)
    async def on_experiment_started(event: ExperimentStarted) -> None:
        await registry.track_experiment(event)

    @event_subscriber(router, subjects, SERVICE, ExperimentStopped)
    async def on_experiment_stopped(event: ExperimentStopped) -> None:
        await registry.end_experiment(event.tenant, event.experiment_id)

    @event_subscriber(router, subjects, SERVICE, ExperimentConcluded)
    async def on_experiment_concluded(event: ExperimentConcluded) -> None:
        await registry.end_experiment(event.tenant, event.experiment_id)

    @command_subscriber(router, subjects, RegisterModel)
    async def on_register(command: RegisterModel) -> None:
        request = RegisterRequest.model_validate(
            command.model_dump(include=set(RegisterRequest.model_fields))
        )
        await rejecting(registry.register(command.tenant, request))

    @command_subscriber(router, subjects, DeployModel)
    async def on_deploy(command: DeployModel) -> None:
        request = DeployRequest.model_validate(
            command.model_dump(include=set(DeployRequest.model_fields))
        )
        await rejecting(registry.deploy(command.tenant, command.model_name, request))

    @command_subscriber(router, subjects, RollBackModel)
    async def on_roll_back(command: RollBackModel) -> None:
        request = RollbackRequest.model_validate(
            command.model_dump(include=set(RollbackRequest.model_fields))
        )
        await rejecting(
            registry.roll_back(command.tenant, command.model_name, command.alias, request)
        )

    @command_subscriber(router, subjects, ArchiveModel)
    async def on_archive(command: ArchiveModel) -> None:
        request = ArchiveRequest(actor=command.actor, notes=command.notes)
        await rejecting(
            registry.archive(command.tenant, command.model_name, command.version, request)
        )

    return router


async def rejecting(operation: object) -> None:
    """Run a registry operation; a refusal is permanent, so it is dead-lettered, not retried."""
    try:
        await operation  # type: ignore[misc]
    except RegistryError as exc:
        raise PermanentError(f"{exc.code}: {exc.message}") from exc


__all__ = ["registry_handlers"]
