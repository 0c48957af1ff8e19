"""The trainer's HTTP API, shaped like OpenAI's fine-tuning API: create, list, get, events,
cancel. Reads come from the trainer's tables; writes are commands on its work queue."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.errors import ErrorBody, ErrorInfo
from contracts.api.files import CheckpointMetrics, FineTuningCheckpoint, FineTuningCheckpointList
from contracts.api.fine_tuning import (
    CreateFineTuningJob,
    FineTuningJob,
    FineTuningJobEventList,
    FineTuningJobList,
)
from contracts.commands import CancelJob, CreateJob
from contracts.training import Hyperparameters, JobStatus
from libs.runtime import ServiceContext
from libs.runtime.health import VERSION
from libs.tenancy import DEFAULT_TENANT, SignedIdentity, Tenant
from services.trainer.axolotl import axolotl_yaml
from services.trainer.datasets import find_dataset
from services.trainer.files_api import file_routes, resolve_file
from services.trainer.history import job_events
from services.trainer.lifecycle import insert_job
from services.trainer.ollama import ollama_modelfile
from services.trainer.openai_objects import as_event, as_job, pending_job, seconds
from services.trainer.settings import TrainerSettings
from services.trainer.tables import TrainerJob

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such job."}
}


def not_found(job_id: str) -> JSONResponse:
    body = ErrorBody(
        error=ErrorInfo(
            code="job_not_found",
            message=f"no fine-tuning job {job_id!r}; list jobs with GET /v1/fine_tuning/jobs",
        )
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=404)


def bad_request(code: str, message: str, status: int = 400) -> JSONResponse:
    body = ErrorBody(error=ErrorInfo(code=code, message=message))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


async def training_file_of(
    request: CreateFineTuningJob, session: AsyncSession, tenant: str
) -> str | JSONResponse | None:
    """The file to train on: given, or the artifact of the named dataset version; ``None``
    when the job exports its dataset first."""
    if request.export is not None and (request.training_file or request.dataset):
        given = "training_file" if request.training_file else "dataset"
        return bad_request(
            "conflicting_training_data",
            f"give export (to export the dataset first) or {given}, not both",
        )
    if request.training_file:
        found_file = await resolve_file(session, tenant, request.training_file)
        if found_file is None:
            return bad_request(
                "file_not_found",
                f"no file {request.training_file!r}; upload it with POST /v1/files",
                404,
            )
        return found_file
    if request.export is not None:
        return None
    if not (request.dataset and request.dataset_version):
        return bad_request(
            "training_file_required",
            "give training_file (the sha256 of a chat JSONL artifact), dataset and "
            "dataset_version of an exported dataset, or export (filters of the examples to "
            "export first)",
        )
    found = await find_dataset(session, tenant, request.dataset, request.dataset_version)
    if found is None:
        return bad_request(
            "dataset_not_found",
            f"dataset {request.dataset!r} version {request.dataset_version} has not been "
            "exported; export it first (the trainer learns of it from dataset.exported)",
            404,
        )
    return found.artifact_sha256


async def job_of(session: AsyncSession, job_id: str, tenant: str) -> TrainerJob | None:
    """The tenant's job; another tenant's job is as absent as an unknown one."""
    job = await session.get(TrainerJob, job_id)
    return job if job is not None and job.tenant == tenant else None


def page_of_jobs(
    tenant: str, statuses: list[JobStatus] | None, owner: str | None = None
) -> Select[TrainerJob]:
    """The tenant's jobs (of ``statuses`` and ``owner`` if given), newest first; ties broken
    by id so that pages never skip or repeat a job."""
    statement = select(TrainerJob).where(col(TrainerJob.tenant) == tenant)
    if owner is not None:
        statement = statement.where(col(TrainerJob.owner) == owner)
    if statuses:
        statement = statement.where(col(TrainerJob.status).in_(sorted(set(statuses))))
    return statement.order_by(col(TrainerJob.created_at).desc(), col(TrainerJob.id).desc())


def after_job(anchor: TrainerJob) -> ColumnElement[bool]:
    """Jobs listed after ``anchor`` in :func:`page_of_jobs`'s order (whatever its status now)."""
    return or_(
        col(TrainerJob.created_at) < anchor.created_at,
        and_(col(TrainerJob.created_at) == anchor.created_at, col(TrainerJob.id) < anchor.id),
    )


def command_of(
    request: CreateFineTuningJob,
    job_id: str,
    training_file: str | None,
    tenant: str = DEFAULT_TENANT,
    validation_file: str | None = None,
    owner: str | None = None,
) -> CreateJob:
    hyperparameters = (
        request.hyperparameters
        or (request.method.hyperparameters() if request.method else None)
        or Hyperparameters()
    )
    if request.seed is not None:
        hyperparameters = hyperparameters.model_copy(update={"seed": request.seed})
    return CreateJob(
        job_id=job_id,
        base_model=request.model,
        tenant=tenant,
        training_file=training_file,
        export=request.export,
        validation_file=validation_file,
        dataset=request.dataset,
        dataset_version=request.dataset_version,
        backend=request.backend,
        method=request.method.type if request.method else "supervised",
        hyperparameters=hyperparameters,
        model_name=request.model_name,
        suffix=request.suffix,
        export_merged=request.export_merged,
        owner=owner,
    )


def owner_filter(owner: str | None, caller: str) -> str | None:
    """The owner to list: ``me`` is the calling key; ``None`` lists everybody's jobs."""
    if owner is None or owner == "":
        return None
    return caller if owner == "me" else owner


def job_routes(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix="/v1/fine_tuning", tags=["fine-tuning"])
    session_dependency = Depends(context.database.session_dependency)
    Session = Annotated[AsyncSession, session_dependency]  # noqa: N806

    @router.post(
        "/jobs",
        response_model=FineTuningJob,
        responses={400: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    )
    async def create(
        request: CreateFineTuningJob, session: Session, caller: SignedIdentity
    ) -> FineTuningJob | JSONResponse:
        """Queue a job; it starts in ``validating_files``, owned by the calling API key."""
        tenant = caller.tenant
        training_file = await training_file_of(request, session, tenant)
        if isinstance(training_file, JSONResponse):
            return training_file
        validation_file = None
        if request.validation_file:
            validation_file = await resolve_file(session, tenant, request.validation_file)
            if validation_file is None:
                return bad_request("file_not_found", f"no file {request.validation_file!r}", 404)
        job_id = f"ftjob-{uuid.uuid4().hex[:24]}"
        owner = caller.key_id or None
        command = command_of(request, job_id, training_file, tenant, validation_file, owner)
        async with context.database.transaction() as recording:
            await insert_job(recording, context, command)  # retrievable at once
        context.outbox.notify()
        await context.bus.send_command(command)
        return pending_job(command)

    @router.get("/jobs", response_model=FineTuningJobList)
    async def list_jobs(
        session: Session,
        caller: SignedIdentity,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        after: Annotated[
            str | None, Query(description="The last job id of the previous page.")
        ] = None,
        status: Annotated[
            list[JobStatus] | None,
            Query(
                description="Only jobs in these statuses (repeat the parameter for several, "
                "e.g. `status=queued&status=running`)."
            ),
        ] = None,
        owner: Annotated[
            str | None,
            Query(
                max_length=128,
                description="Only jobs created with this API key id (`me`: the calling key).",
            ),
        ] = None,
    ) -> FineTuningJobList:
        """The tenant's jobs, newest first, a page at a time (`after` the previous page's last
        id; `has_more` says whether there is another page)."""
        tenant = caller.tenant
        statement = page_of_jobs(tenant, status, owner_filter(owner, caller.key_id))
        if after:
            anchor = await job_of(session, after, tenant)
            if anchor is not None:
                statement = statement.where(after_job(anchor))
        rows = list((await session.execute(statement.limit(limit + 1))).scalars().all())
        return FineTuningJobList(data=[as_job(r) for r in rows[:limit]], has_more=len(rows) > limit)

    @router.get("/jobs/{job_id}", response_model=FineTuningJob, responses=NOT_FOUND)
    async def get_job(
        job_id: str, session: Session, tenant: Tenant = DEFAULT_TENANT
    ) -> FineTuningJob | JSONResponse:
        job = await job_of(session, job_id, tenant)
        return as_job(job) if job else not_found(job_id)

    @router.get("/jobs/{job_id}/events", response_model=FineTuningJobEventList, responses=NOT_FOUND)
    async def events(
        job_id: str,
        session: Session,
        tenant: Tenant = DEFAULT_TENANT,
        limit: Annotated[int, Query(ge=1, le=10000)] = 10000,
    ) -> FineTuningJobEventList | JSONResponse:
        """The job's full history, oldest first (OpenAI lists newest first; ours replays)."""
        if await job_of(session, job_id, tenant) is None:
            return not_found(job_id)
        rows = await job_events(session, job_id)
        return FineTuningJobEventList(
            data=[as_event(r) for r in rows[:limit]], has_more=len(rows) > limit
        )

    @router.get(
        "/jobs/{job_id}/axolotl.yaml",
        response_class=PlainTextResponse,
        responses={**NOT_FOUND, 200: {"content": {"application/yaml": {}}}},
    )
    async def axolotl(job_id: str, session: Session, tenant: Tenant = DEFAULT_TENANT) -> Response:
        """The job as an Axolotl config; its dataset is the training file saved as JSONL."""
        job = await job_of(session, job_id, tenant)
        if job is None:
            return not_found(job_id)
        text = axolotl_yaml(job, f"{job.training_file}.jsonl")
        return PlainTextResponse(text, media_type="application/yaml")

    @router.get(
        "/jobs/{job_id}/Modelfile",
        response_class=PlainTextResponse,
        responses={
            **NOT_FOUND,
            409: {"model": ErrorBody, "description": "The job has no adapter yet."},
        },
    )
    async def modelfile(job_id: str, session: Session, tenant: Tenant = DEFAULT_TENANT) -> Response:
        """An Ollama Modelfile serving the job's adapter on its base model."""
        job = await job_of(session, job_id, tenant)
        if job is None:
            return not_found(job_id)
        if job.status != "succeeded" or job.backend == "openai":
            return bad_request(
                "no_adapter",
                f"job {job_id} is {job.status} on backend {job.backend}; a Modelfile needs "
                "the adapter of a job that succeeded on trl or unsloth",
                409,
            )
        return PlainTextResponse(ollama_modelfile(job))

    @router.post("/jobs/{job_id}/cancel", response_model=FineTuningJob, responses=NOT_FOUND)
    async def cancel(
        job_id: str, session: Session, tenant: Tenant = DEFAULT_TENANT
    ) -> FineTuningJob | JSONResponse:
        job = await job_of(session, job_id, tenant)
        if job is None:
            return not_found(job_id)
        await context.bus.send_command(CancelJob(job_id=job_id, tenant=job.tenant))
        return as_job(job)

    @router.get(
        "/jobs/{job_id}/checkpoints", response_model=FineTuningCheckpointList, responses=NOT_FOUND
    )
    async def checkpoints(
        job_id: str,
        session: Session,
        tenant: Tenant = DEFAULT_TENANT,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> FineTuningCheckpointList | JSONResponse:
        """The job's saved checkpoints, newest first (OpenAI's order)."""
        if await job_of(session, job_id, tenant) is None:
            return not_found(job_id)
        rows = [r for r in await job_events(session, job_id) if r.type == "job.checkpoint"]
        data = [as_checkpoint(r.message_id, job_id, r.time, r.payload) for r in reversed(rows)]
        data = data[:limit]
        return FineTuningCheckpointList(
            data=data,
            has_more=len(rows) > limit,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
        )

    return router


def as_checkpoint(
    event_id: str, job_id: str, time: datetime, payload: dict[str, Any]
) -> FineTuningCheckpoint:
    return FineTuningCheckpoint(
        id=f"ftckpt-{event_id[:24]}",
        created_at=seconds(time) or 0,
        fine_tuned_model_checkpoint=str(payload.get("artifact_sha256", "")),
        fine_tuning_job_id=job_id,
        step_number=int(payload.get("step", 0)),
        metrics=CheckpointMetrics(
            step=payload.get("step"),
            train_loss=payload.get("train_loss"),
            valid_loss=payload.get("validation_loss"),
        ),
    )


def build_api(context: ServiceContext) -> FastAPI:
    api = FastAPI(
        title="tuneloop trainer",
        version=VERSION,
        description="Fine-tuning jobs, shaped like OpenAI's fine-tuning API.",
    )
    api.include_router(job_routes(context))
    settings = context.settings
    max_bytes = settings.max_file_bytes if isinstance(settings, TrainerSettings) else 10**8
    api.include_router(file_routes(context, max_bytes))
    return api


__all__ = ["build_api", "command_of"]
