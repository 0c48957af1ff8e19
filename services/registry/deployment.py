"""Deploy, roll back and archive: alias changes with optimistic concurrency and an
append-only history, each announced by an event in the same transaction."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.registry import ArchiveRequest, DeployRequest, RollbackRequest
from contracts.envelope import utc_now
from contracts.events import ModelArchived, ModelDeployed, ModelRolledBack
from libs.messaging import Bus, add_to_outbox
from services.registry.errors import Conflict, NotFound, Refused
from services.registry.lookups import (
    aliases_of_model,
    find_alias,
    version_by_id,
    version_or_404,
)
from services.registry.tables import (
    DeploymentEntry,
    ExperimentArmUse,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
)

SERVABLE = {"ready", "deployed"}


def conflict(model: RegisteredModel, alias: str) -> Conflict:
    return Conflict(
        f"alias {alias!r} of {model.name!r} was changed by someone else meanwhile; "
        "reload it and retry with its current revision"
    )


def servable(model: RegisteredModel, version: ModelVersion) -> dict[str, Any]:
    """What a router needs to serve ``version``: the fields every alias event carries."""
    return {
        "tenant": model.tenant,
        "model_name": model.name,
        "version": version.version,
        "serving_name": version.serving_name,
        "base_model": version.base_model,
        "artifact_sha256": version.artifact_sha256,
        "artifact_uri": version.artifact_uri,
        "external_model_id": version.external_model_id,
    }


async def move_alias(
    session: AsyncSession,
    model: RegisteredModel,
    alias_name: str,
    target: ModelVersion,
    expected_revision: int | None,
) -> ModelAlias:
    """Point the alias at ``target`` unless its revision changed under us."""
    assert model.id is not None
    assert target.id is not None
    alias = await find_alias(session, model, alias_name)
    current = alias.revision if alias else 0
    if expected_revision is not None and expected_revision != current:
        raise conflict(model, alias_name)
    if alias is None:
        alias = ModelAlias(
            tenant=model.tenant,
            model_id=model.id,
            name=alias_name,
            version_id=target.id,
            revision=1,
        )
        session.add(alias)
        try:
            await session.flush()
        except IntegrityError:
            raise conflict(model, alias_name) from None
        return alias
    moved = await session.execute(
        update(ModelAlias)
        .where(col(ModelAlias.id) == alias.id, col(ModelAlias.revision) == alias.revision)
        .values(version_id=target.id, revision=alias.revision + 1, updated_at=utc_now())
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise conflict(model, alias_name)
    await session.refresh(alias)
    return alias


async def refresh_status(session: AsyncSession, version: ModelVersion) -> None:
    """``deployed`` while any alias points at it, ``ready`` otherwise (unless archived)."""
    if version.status not in SERVABLE:
        return
    used = (
        await session.execute(
            select(col(ModelAlias.id)).where(col(ModelAlias.version_id) == version.id).limit(1)
        )
    ).first()
    version.status = "deployed" if used else "ready"


def record(session: AsyncSession, model: RegisteredModel, **entry: object) -> None:
    assert model.id is not None
    session.add(DeploymentEntry(tenant=model.tenant, model_id=model.id, **entry))  # type: ignore[arg-type]


async def deploy(
    session: AsyncSession, bus: Bus, model: RegisteredModel, request: DeployRequest
) -> ModelAlias:
    target = await version_or_404(session, model, request.version)
    if target.status not in SERVABLE:
        raise Refused(
            f"version {target.version} of {model.name!r} is {target.status}; "
            "only ready or deployed versions can be deployed"
        )
    previous_alias = await find_alias(session, model, request.alias)
    previous = await version_by_id(session, previous_alias.version_id) if previous_alias else None
    alias = await move_alias(session, model, request.alias, target, request.expected_revision)
    for version in (target, previous):
        if version is not None:
            await refresh_status(session, version)
    record(
        session,
        model,
        alias=request.alias,
        action="deploy",
        from_version=previous.version if previous else None,
        to_version=target.version,
        actor=request.actor,
        notes=request.notes,
        config=request.config,
        justification=request.justification,
    )
    add_to_outbox(
        session,
        bus,
        ModelDeployed(
            **servable(model, target),
            alias=request.alias,
            alias_revision=alias.revision,
            previous_version=previous.version if previous else None,
            config=request.config,
            justification=request.justification,
            actor=request.actor,
            notes=request.notes,
        ),
    )
    return alias


async def previous_version_of_alias(
    session: AsyncSession, model: RegisteredModel, alias: ModelAlias, current: ModelVersion
) -> int:
    """The version the alias pointed at before its latest change to ``current``."""
    history = (
        await session.execute(
            select(DeploymentEntry)
            .where(
                col(DeploymentEntry.model_id) == model.id,
                col(DeploymentEntry.alias) == alias.name,
                col(DeploymentEntry.to_version) == current.version,
            )
            .order_by(col(DeploymentEntry.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if history is None or history.from_version is None:
        raise Refused(
            f"alias {alias.name!r} of {model.name!r} has no earlier version to roll "
            "back to; name one with to_version"
        )
    return history.from_version


async def roll_back(
    session: AsyncSession,
    bus: Bus,
    model: RegisteredModel,
    alias_name: str,
    request: RollbackRequest,
) -> ModelAlias:
    alias = await find_alias(session, model, alias_name)
    if alias is None:
        raise NotFound(f"model {model.name!r} has no alias {alias_name!r}")
    current = await version_by_id(session, alias.version_id)
    wanted = request.to_version or await previous_version_of_alias(session, model, alias, current)
    target = await version_or_404(session, model, wanted)
    if target.status not in SERVABLE:
        raise Refused(
            f"version {target.version} of {model.name!r} is {target.status} and cannot serve again"
        )
    if target.id == current.id:
        raise Refused(f"alias {alias_name!r} already points at version {target.version}")
    alias = await move_alias(session, model, alias_name, target, alias.revision)
    for version in (target, current):
        await refresh_status(session, version)
    record(
        session,
        model,
        alias=alias_name,
        action="rollback",
        from_version=current.version,
        to_version=target.version,
        actor=request.actor,
        notes=request.notes,
        config={},
        justification=request.justification,
    )
    add_to_outbox(
        session,
        bus,
        ModelRolledBack(
            **servable(model, target),
            alias=alias_name,
            alias_revision=alias.revision,
            from_version=current.version,
            justification=request.justification,
            actor=request.actor,
            notes=request.notes,
        ),
    )
    return alias


async def running_experiments_of(
    session: AsyncSession, tenant: str, serving_name: str
) -> list[str]:
    rows = await session.execute(
        select(ExperimentArmUse.experiment_id).where(  # type: ignore[call-overload]
            col(ExperimentArmUse.tenant) == tenant,
            col(ExperimentArmUse.serving_name) == serving_name,
            col(ExperimentArmUse.running),
        )
    )
    return sorted(set(rows.scalars()))


async def archive(
    session: AsyncSession, bus: Bus, model: RegisteredModel, version: int, request: ArchiveRequest
) -> ModelVersion:
    target = await version_or_404(session, model, version)
    if target.status == "archived":
        return target
    users = [
        alias.name
        for alias in await aliases_of_model(session, model)
        if alias.version_id == target.id
    ]
    if users:
        raise Refused(
            f"version {version} of {model.name!r} is served by alias(es) "
            f"{', '.join(users)}; deploy another version there first"
        )
    experiments = await running_experiments_of(session, model.tenant, target.serving_name)
    if experiments:
        raise Refused(
            f"version {version} of {model.name!r} is an arm of running experiment(s) "
            f"{', '.join(experiments)}; stop them first"
        )
    target.status = "archived"
    record(
        session,
        model,
        alias=None,
        action="archive",
        from_version=version,
        to_version=None,
        actor=request.actor,
        notes=request.notes,
        config={},
        justification=None,
    )
    add_to_outbox(
        session,
        bus,
        ModelArchived(
            tenant=model.tenant,
            model_name=model.name,
            version=version,
            serving_name=target.serving_name,
            actor=request.actor,
            notes=request.notes,
        ),
    )
    return target


__all__ = ["archive", "deploy", "roll_back"]
