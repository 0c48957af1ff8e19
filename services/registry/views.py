"""Rows → public bodies."""

from contracts.api.registry import (
    AliasPublic,
    DeploymentRecord,
    ModelPublic,
    VersionPublic,
)
from services.registry.tables import DeploymentEntry, ModelAlias, ModelVersion, RegisteredModel


def version_public(
    model: RegisteredModel, row: ModelVersion, aliases: list[str] | None = None
) -> VersionPublic:
    return VersionPublic(
        model_name=model.name,
        version=row.version,
        status=row.status,
        serving_name=row.serving_name,
        base_model=row.base_model,
        artifact_sha256=row.artifact_sha256,
        artifact_uri=row.artifact_uri,
        artifact_bytes=row.artifact_bytes,
        external_model_id=row.external_model_id,
        source=row.source,
        job_id=row.job_id,
        dataset=row.dataset,
        dataset_version=row.dataset_version,
        training_config=row.training_config,
        training_metrics=row.training_metrics,
        quality_metrics=row.quality_metrics,
        performance_metrics=row.performance_metrics,
        cost=row.cost,
        aliases=sorted(aliases or []),
        created_at=row.created_at,
    )


def alias_public(model: RegisteredModel, alias: ModelAlias, version: ModelVersion) -> AliasPublic:
    return AliasPublic(
        model_name=model.name,
        alias=alias.name,
        version=version.version,
        serving_name=version.serving_name,
        revision=alias.revision,
        updated_at=alias.updated_at,
    )


def model_public(
    model: RegisteredModel, latest_version: int | None, aliases: list[AliasPublic]
) -> ModelPublic:
    return ModelPublic(
        name=model.name,
        tenant=model.tenant,
        description=model.description,
        latest_version=latest_version,
        aliases=aliases,
        created_at=model.created_at,
    )


def deployment_record(model: RegisteredModel, entry: DeploymentEntry) -> DeploymentRecord:
    assert entry.id is not None
    return DeploymentRecord(
        sequence=entry.id,
        model_name=model.name,
        alias=entry.alias,
        action=entry.action,
        from_version=entry.from_version,
        to_version=entry.to_version,
        actor=entry.actor,
        notes=entry.notes,
        config=entry.config,
        justification=entry.justification,
        created_at=entry.created_at,
    )


__all__ = ["alias_public", "deployment_record", "model_public", "version_public"]
