"""New versions: from a finished training job (idempotent) or registered by hand."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.registry import RegisterRequest
from contracts.events import JobCompleted, JobCreated, ModelRegistered
from libs.artifacts import ArtifactStore, store_directory
from libs.messaging import Bus, add_to_outbox
from services.registry.errors import InvalidRequest, NotFound
from services.registry.lookups import find_model, latest_version_number
from services.registry.naming import serving_name
from services.registry.tables import ModelVersion, RegisteredModel


async def model_for_registration(
    session: AsyncSession, tenant: str, name: str, description: str = ""
) -> RegisteredModel:
    model = await find_model(session, tenant, name)
    if model is None:
        model = RegisteredModel(tenant=tenant, name=name, description=description)
        session.add(model)
        await session.flush()
    return model


async def version_of_job(session: AsyncSession, tenant: str, job_id: str) -> ModelVersion | None:
    query = select(ModelVersion).where(
        col(ModelVersion.tenant) == tenant, col(ModelVersion.job_id) == job_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add_version(
    session: AsyncSession, bus: Bus, model: RegisteredModel, row: ModelVersion
) -> ModelVersion:
    """Number a new version, then name and announce it."""
    row.version = (await latest_version_number(session, model) or 0) + 1
    return await announce(session, bus, model, row)


async def announce(
    session: AsyncSession, bus: Bus, model: RegisteredModel, row: ModelVersion
) -> ModelVersion:
    """Give the version its immutable serving name and publish ``model.registered``."""
    row.serving_name = serving_name(
        model.name, row.version, row.artifact_sha256, row.external_model_id
    )
    session.add(row)
    await session.flush()
    add_to_outbox(
        session,
        bus,
        ModelRegistered(
            tenant=model.tenant,
            model_name=model.name,
            version=row.version,
            serving_name=row.serving_name,
            base_model=row.base_model,
            artifact_sha256=row.artifact_sha256,
            artifact_uri=row.artifact_uri,
            external_model_id=row.external_model_id,
            job_id=row.job_id,
        ),
    )
    return row


def training_serving_name(model_name: str, version: int) -> str:
    """A placeholder until the adapter exists; a version in training is never served."""
    return f"{model_name}@{version}-training"


async def register_training_job(session: AsyncSession, event: JobCreated) -> ModelVersion:
    """A version in status ``training`` as soon as a job is created for the model."""
    existing = await version_of_job(session, event.tenant, event.job_id)
    if existing is not None:
        return existing
    model = await model_for_registration(session, event.tenant, event.model_name or event.job_id)
    assert model.id is not None
    version = (await latest_version_number(session, model) or 0) + 1
    row = ModelVersion(
        tenant=event.tenant,
        model_id=model.id,
        version=version,
        status="training",
        serving_name=training_serving_name(model.name, version),
        base_model=event.base_model,
        source="job",
        job_id=event.job_id,
        dataset=event.dataset,
        dataset_version=event.dataset_version,
        training_config=event.hyperparameters.model_dump(mode="json", exclude_none=True),
    )
    session.add(row)
    await session.flush()
    return row


async def mark_job_ended(session: AsyncSession, tenant: str, job_id: str, status: str) -> None:
    """A job that failed or was cancelled leaves its version ``failed`` or ``archived``."""
    row = await version_of_job(session, tenant, job_id)
    if row is not None and row.status == "training":
        row.status = status


async def register_job_output(session: AsyncSession, bus: Bus, event: JobCompleted) -> ModelVersion:
    """The version a completed job produced; the same job never makes a second version."""
    existing = await version_of_job(session, event.tenant, event.job_id)
    if existing is not None and existing.status != "training":
        return existing
    model = await model_for_registration(session, event.tenant, event.model_name)
    assert model.id is not None
    row = existing or ModelVersion(
        tenant=event.tenant,
        model_id=model.id,
        version=0,
        status="training",
        serving_name="",
        source="job",
        base_model=event.base_model,
        job_id=event.job_id,
    )
    row.status = "ready"
    row.base_model = event.base_model
    row.artifact_sha256 = event.adapter_sha256
    row.artifact_uri = event.adapter_uri
    row.artifact_bytes = event.adapter_bytes
    row.dataset = event.dataset
    row.dataset_version = event.dataset_version
    row.training_config = dict(event.hyperparameters)
    row.training_metrics = {
        **event.metrics,
        "trained_tokens": float(event.trained_tokens),
        "wall_seconds": event.wall_seconds,
    }
    if existing is None:
        return await add_version(session, bus, model, row)
    return await announce(session, bus, model, row)


async def stored_adapter_directory(artifacts: ArtifactStore, directory: Path) -> str:
    """Pack a PEFT adapter directory into the artifact store; its sha256."""
    if not (directory / "adapter_config.json").is_file():
        raise InvalidRequest(
            f"{directory} is not a PEFT adapter directory (no "
            "adapter_config.json); give the directory save_pretrained() wrote"
        )
    return (await store_directory(artifacts, directory)).sha256


async def register_manually(
    session: AsyncSession, bus: Bus, artifacts: ArtifactStore, tenant: str, request: RegisterRequest
) -> ModelVersion:
    """A version from an adapter in the artifact store, an external model id, or neither: the
    base model itself (the baseline a fine-tuned version is compared with)."""
    sources = [request.artifact_sha256, request.adapter_path, request.external_model_id]
    if sum(source is not None for source in sources) > 1:
        raise InvalidRequest(
            "give at most one of artifact_sha256 (an adapter in the artifact "
            "store), adapter_path (an adapter directory) or "
            "external_model_id (e.g. an OpenAI ft: model); none registers the base model itself"
        )
    sha256 = request.artifact_sha256
    if request.adapter_path is not None:
        sha256 = await stored_adapter_directory(artifacts, Path(request.adapter_path))
    artifact_uri, artifact_bytes = None, None
    if sha256 is not None:
        if not await artifacts.exists(sha256):
            raise NotFound(
                f"artifact {sha256} is not in the artifact store; upload the adapter first"
            )
        info = await artifacts.info(sha256)
        artifact_uri, artifact_bytes = info.uri, info.size
    model = await model_for_registration(session, tenant, request.model_name, request.description)
    assert model.id is not None
    return await add_version(
        session,
        bus,
        model,
        ModelVersion(
            tenant=tenant,
            model_id=model.id,
            version=0,
            status="ready",
            serving_name="",
            base_model=request.base_model,
            artifact_sha256=sha256,
            artifact_uri=artifact_uri,
            artifact_bytes=artifact_bytes,
            external_model_id=request.external_model_id,
            source="manual",
        ),
    )


__all__ = [
    "mark_job_ended",
    "register_job_output",
    "register_manually",
    "register_training_job",
]
