"""Commands of the trainer: create a job (check its files, queue it) and cancel one."""

from faststream.nats import NatsRouter

from contracts.commands import CancelJob, CreateJob
from contracts.events.jobs import JobEstimated, JobEvent, JobQueued
from libs.messaging import command_subscriber
from libs.models.registry import BaseModelNotFound, check_base_model
from libs.runtime import ServiceContext
from services.trainer.estimates import BudgetRefused, estimate_and_check
from services.trainer.files import FileProblem, FileSummary, check_file
from services.trainer.lifecycle import JobUpdates, cancel, fail, insert_job, is_terminal
from services.trainer.tables import TrainerJob
from services.trainer.worker import Worker


async def check_files(context: ServiceContext, command: CreateJob) -> tuple[FileSummary, int]:
    assert command.training_file is not None
    if command.backend != "openai":  # OpenAI's models are checked by OpenAI
        try:
            check_base_model(command.base_model)
        except BaseModelNotFound as exc:
            raise FileProblem("base_model_not_found", str(exc), "model") from None
    train = await check_file(
        context.artifacts, command.training_file, "training_file", command.method
    )
    validation_rows = 0
    if command.validation_file:
        validation = await check_file(
            context.artifacts, command.validation_file, "validation_file", command.method
        )
        validation_rows = validation.rows
    return train, validation_rows


async def create_job(context: ServiceContext, worker: Worker, command: CreateJob) -> None:
    """Record the job; check its files and queue it, or ask the exporter for them first."""
    async with context.database.transaction() as session:
        await insert_job(session, context, command)
    context.outbox.notify()
    if command.training_file is None:
        return  # continued by ``dataset_ready`` when the exporter announces the dataset
    await validate_and_queue(context, worker, command)


async def validate_and_queue(context: ServiceContext, worker: Worker, command: CreateJob) -> None:
    """``validating_files``: the files, the base model, the estimate and the budgets."""
    try:
        train, validation_rows = await check_files(context, command)
    except FileProblem as problem:
        await reject(context, command.job_id, problem)
        return
    try:
        cost = await estimate_and_check(context, worker.settings, command)
    except BudgetRefused as refused:
        await reject(
            context, command.job_id, FileProblem("budget_exceeded", str(refused), "tenant")
        )
        return
    if cost.estimated is not None:
        await record_estimate(context, cost.estimated)
    await queue_job(context, command.job_id, train, validation_rows)
    worker.wake()


async def record_estimate(context: ServiceContext, estimated: JobEstimated) -> None:
    def estimate(job: TrainerJob) -> JobEvent | None:
        if job.status != "validating_files":
            return None
        job.estimated_tokens = estimated.trained_tokens
        return estimated

    await JobUpdates(context).apply(estimated.job_id, estimate)


async def reject(context: ServiceContext, job_id: str, problem: FileProblem) -> None:
    def failed(job: TrainerJob) -> JobEvent | None:
        if job.status != "validating_files":
            return None
        return fail(job, problem.code, problem.message)

    await JobUpdates(context).apply(job_id, failed)


async def queue_job(
    context: ServiceContext, job_id: str, train: FileSummary, validation_rows: int
) -> None:
    def queue(job: TrainerJob) -> JobEvent | None:
        if job.status != "validating_files":
            return None
        job.status = "queued"
        job.train_rows = train.rows
        job.validation_rows = validation_rows
        job.estimated_tokens = job.estimated_tokens or train.estimated_tokens
        return JobQueued(
            job_id=job.id,
            tenant=job.tenant,
            train_rows=train.rows,
            validation_rows=validation_rows,
            estimated_tokens=job.estimated_tokens,
        )

    await JobUpdates(context).apply(job_id, queue)


async def cancel_job(context: ServiceContext, worker: Worker, command: CancelJob) -> None:
    def request(job: TrainerJob) -> JobEvent | None:
        if is_terminal(job):
            return None
        if job.status in ("validating_files", "queued") and job.lease_owner is None:
            return cancel(job)
        job.cancel_requested = True
        return None

    await JobUpdates(context).apply(command.job_id, request)
    await worker.cancel_local(command.job_id)


def job_router(context: ServiceContext, worker: Worker) -> NatsRouter:
    router = NatsRouter()
    subjects = context.bus.subjects

    @command_subscriber(router, subjects, CreateJob)
    async def on_create(command: CreateJob) -> None:
        await create_job(context, worker, command)

    @command_subscriber(router, subjects, CancelJob)
    async def on_cancel(command: CancelJob) -> None:
        await cancel_job(context, worker, command)

    return router


__all__ = ["cancel_job", "create_job", "job_router"]
