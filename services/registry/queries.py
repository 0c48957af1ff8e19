"""Read side of the registry: listings, history, comparison, export and import."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.registry import (
    AliasPublic,
    DeploymentRecord,
    ModelPublic,
    VersionComparison,
    VersionPublic,
)
from services.registry.errors import NotFound
from services.registry.lookups import (
    alias_names_by_version,
    aliases_of_model,
    find_alias,
    latest_version_number,
    model_or_404,
    version_by_id,
    version_or_404,
)
from services.registry.tables import DeploymentEntry, ModelVersion, RegisteredModel
from services.registry.views import (
    alias_public,
    deployment_record,
    model_public,
    version_public,
)


async def aliases(session: AsyncSession, model: RegisteredModel) -> list[AliasPublic]:
    return [
        alias_public(model, alias, await version_by_id(session, alias.version_id))
        for alias in await aliases_of_model(session, model)
    ]


async def describe_model(session: AsyncSession, model: RegisteredModel) -> ModelPublic:
    return model_public(
        model, await latest_version_number(session, model), await aliases(session, model)
    )


async def list_models(session: AsyncSession, tenant: str) -> list[ModelPublic]:
    models = (
        await session.execute(
            select(RegisteredModel)
            .where(col(RegisteredModel.tenant) == tenant)
            .order_by(col(RegisteredModel.name))
        )
    ).scalars()
    return [await describe_model(session, model) for model in models]


async def list_versions(
    session: AsyncSession,
    tenant: str,
    model_name: str,
    status: str | None = None,
    base_model: str | None = None,
) -> list[VersionPublic]:
    model = await model_or_404(session, tenant, model_name)
    query = select(ModelVersion).where(col(ModelVersion.model_id) == model.id)
    if status is not None:
        query = query.where(col(ModelVersion.status) == status)
    if base_model is not None:
        query = query.where(col(ModelVersion.base_model) == base_model)
    names = await alias_names_by_version(session, model)
    rows = (await session.execute(query.order_by(col(ModelVersion.version)))).scalars()
    return [version_public(model, row, names.get(row.id or 0)) for row in rows]


async def describe_version(
    session: AsyncSession, tenant: str, model_name: str, version: int
) -> VersionPublic:
    model = await model_or_404(session, tenant, model_name)
    row = await version_or_404(session, model, version)
    return version_public(
        model, row, (await alias_names_by_version(session, model)).get(row.id or 0)
    )


async def serving_now(
    session: AsyncSession, tenant: str, model_name: str, alias_name: str
) -> AliasPublic:
    model = await model_or_404(session, tenant, model_name)
    alias = await find_alias(session, model, alias_name)
    if alias is None:
        raise NotFound(
            f"model {model_name!r} has no alias {alias_name!r}; deploy a version to it first"
        )
    return alias_public(model, alias, await version_by_id(session, alias.version_id))


async def history(
    session: AsyncSession, tenant: str, model_name: str, alias_name: str | None = None
) -> list[DeploymentRecord]:
    model = await model_or_404(session, tenant, model_name)
    query = select(DeploymentEntry).where(col(DeploymentEntry.model_id) == model.id)
    if alias_name is not None:
        query = query.where(col(DeploymentEntry.alias) == alias_name)
    entries = (await session.execute(query.order_by(col(DeploymentEntry.id)))).scalars()
    return [deployment_record(model, entry) for entry in entries]


def differing(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        key: [a.get(key), b.get(key)]
        for key in sorted(a.keys() | b.keys())
        if a.get(key) != b.get(key)
    }


def metric_differences(a: VersionPublic, b: VersionPublic) -> dict[str, float]:
    differences: dict[str, float] = {}
    for group in ("training_metrics", "quality_metrics", "performance_metrics", "cost"):
        left, right = getattr(a, group), getattr(b, group)
        for key in sorted(left.keys() & right.keys()):
            differences[f"{group}.{key}"] = right[key] - left[key]
    return differences


async def compare(
    session: AsyncSession, tenant: str, model_name: str, a: int, b: int
) -> VersionComparison:
    first = await describe_version(session, tenant, model_name, a)
    second = await describe_version(session, tenant, model_name, b)
    return VersionComparison(
        a=first,
        b=second,
        metric_differences=metric_differences(first, second),
        config_differences=differing(first.training_config, second.training_config),
    )


__all__ = [
    "compare",
    "describe_model",
    "describe_version",
    "history",
    "list_models",
    "list_versions",
    "serving_now",
]
