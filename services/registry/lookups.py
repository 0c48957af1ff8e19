"""Finding models, versions and aliases of one tenant (every lookup is tenant-scoped)."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.registry.errors import NotFound
from services.registry.tables import ModelAlias, ModelVersion, RegisteredModel


async def find_model(session: AsyncSession, tenant: str, name: str) -> RegisteredModel | None:
    query = select(RegisteredModel).where(
        col(RegisteredModel.tenant) == tenant, col(RegisteredModel.name) == name
    )
    return (await session.execute(query)).scalar_one_or_none()


async def model_or_404(session: AsyncSession, tenant: str, name: str) -> RegisteredModel:
    model = await find_model(session, tenant, name)
    if model is None:
        raise NotFound(f"no model named {name!r}; list models with GET /v1/registry/models")
    return model


async def version_or_404(
    session: AsyncSession, model: RegisteredModel, version: int
) -> ModelVersion:
    query = select(ModelVersion).where(
        col(ModelVersion.model_id) == model.id, col(ModelVersion.version) == version
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"model {model.name!r} has no version {version}; "
            f"list them with GET /v1/registry/models/{model.name}/versions"
        )
    return row


async def version_by_id(session: AsyncSession, version_id: int) -> ModelVersion:
    row = await session.get(ModelVersion, version_id)
    assert row is not None, f"alias points at missing version {version_id}"
    return row


async def latest_version_number(session: AsyncSession, model: RegisteredModel) -> int | None:
    query = select(func.max(ModelVersion.version)).where(col(ModelVersion.model_id) == model.id)
    return (await session.execute(query)).scalar_one_or_none()


async def find_alias(session: AsyncSession, model: RegisteredModel, name: str) -> ModelAlias | None:
    query = select(ModelAlias).where(
        col(ModelAlias.model_id) == model.id, col(ModelAlias.name) == name
    )
    return (await session.execute(query)).scalar_one_or_none()


async def aliases_of_model(session: AsyncSession, model: RegisteredModel) -> list[ModelAlias]:
    query = (
        select(ModelAlias)
        .where(col(ModelAlias.model_id) == model.id)
        .order_by(col(ModelAlias.name))
    )
    return list((await session.execute(query)).scalars())


async def alias_names_by_version(
    session: AsyncSession, model: RegisteredModel
) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for alias in await aliases_of_model(session, model):
        names.setdefault(alias.version_id, []).append(alias.name)
    return names


__all__ = [
    "alias_names_by_version",
    "aliases_of_model",
    "find_alias",
    "find_model",
    "latest_version_number",
    "model_or_404",
    "version_by_id",
    "version_or_404",
]
