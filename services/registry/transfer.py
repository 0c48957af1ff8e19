"""Export one tenant's whole registry as JSON and import it elsewhere (backup, migration)."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.registry import ImportSummary, RegistryExport
from contracts.envelope import utc_now
from services.registry.errors import Conflict, InvalidRequest
from services.registry.lookups import find_model
from services.registry.queries import history, list_models, list_versions
from services.registry.tables import DeploymentEntry, ModelAlias, ModelVersion, RegisteredModel


async def export_registry(session: AsyncSession, tenant: str) -> RegistryExport:
    models = await list_models(session, tenant)
    versions = [v for model in models for v in await list_versions(session, tenant, model.name)]
    records = [r for model in models for r in await history(session, tenant, model.name)]
    return RegistryExport(
        tenant=tenant, exported_at=utc_now(), models=models, versions=versions, history=records
    )


def check_references(document: RegistryExport) -> None:
    """Every version, alias and history entry names a model and version of the document."""
    models = {m.name for m in document.models}
    versions = {(v.model_name, v.version) for v in document.versions}
    problems = [
        f"version {v.model_name}@{v.version} names no model of the document"
        for v in document.versions
        if v.model_name not in models
    ]
    problems += [
        f"alias {m.name}:{a.alias} points at version {a.version}, which is not in the document"
        for m in document.models
        for a in m.aliases
        if (m.name, a.version) not in versions
    ]
    problems += [
        f"history entry {e.sequence} names model {e.model_name!r}, not in the document"
        for e in document.history
        if e.model_name not in models
    ]
    if problems:
        raise InvalidRequest(
            f"the export is inconsistent ({'; '.join(problems[:5])}); import the file "
            "`GET /v1/registry/export` wrote, unedited"
        )


async def import_registry(
    session: AsyncSession, tenant: str, document: RegistryExport
) -> ImportSummary:
    """Recreate every model of ``document`` under ``tenant``; refuses models that exist."""
    existing = [m.name for m in document.models if await find_model(session, tenant, m.name)]
    if existing:
        raise Conflict(
            f"these models already exist in tenant {tenant!r}: "
            f"{', '.join(sorted(existing))}; import into an empty tenant or "
            "archive and rename them first"
        )
    check_references(document)
    ids: dict[str, int] = {}
    for model in document.models:
        row = RegisteredModel(
            tenant=tenant,
            name=model.name,
            description=model.description,
            created_at=model.created_at,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        ids[model.name] = row.id
    version_ids: dict[tuple[str, int], int] = {}
    for version in document.versions:
        data = version.model_dump(exclude={"model_name", "aliases"})
        row_version = ModelVersion(tenant=tenant, model_id=ids[version.model_name], **data)
        session.add(row_version)
        await session.flush()
        assert row_version.id is not None
        version_ids[(version.model_name, version.version)] = row_version.id
    for model in document.models:
        for alias in model.aliases:
            session.add(
                ModelAlias(
                    tenant=tenant,
                    model_id=ids[model.name],
                    name=alias.alias,
                    version_id=version_ids[(model.name, alias.version)],
                    revision=alias.revision,
                    updated_at=alias.updated_at,
                )
            )
    for entry in document.history:
        session.add(
            DeploymentEntry(
                tenant=tenant,
                model_id=ids[entry.model_name],
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
        )
    return ImportSummary(
        models=len(document.models), versions=len(document.versions), history=len(document.history)
    )


__all__ = ["export_registry", "import_registry"]
