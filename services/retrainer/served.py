"""What each model's aliases serve, kept from the registry's deploy and rollback events: the
version a candidate is compared with (and whose base model it trains on by default)."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import utc_now
from contracts.events import ModelDeployed, ModelRolledBack
from libs.storage import Database
from services.retrainer.tables import ServedVersion


async def served_version(
    session: AsyncSession, tenant: str, model_name: str, alias: str
) -> ServedVersion | None:
    return await session.get(ServedVersion, (tenant, model_name, alias))


async def remember_alias(database: Database, event: ModelDeployed | ModelRolledBack) -> None:
    """Keep the alias' newest revision (older or repeated events change nothing)."""
    async with database.transaction() as session:
        row = await session.get(
            ServedVersion, (event.tenant, event.model_name, event.alias), with_for_update=True
        )
        if row is None:
            row = ServedVersion(
                tenant=event.tenant,
                model_name=event.model_name,
                alias=event.alias,
                version=event.version,
                serving_name=event.serving_name,
                base_model=event.base_model,
                alias_revision=event.alias_revision,
            )
            session.add(row)
            return
        if row.alias_revision >= event.alias_revision:
            return
        row.version, row.serving_name = event.version, event.serving_name
        row.base_model, row.alias_revision = event.base_model, event.alias_revision
        row.updated_at = utc_now()


__all__ = ["remember_alias", "served_version"]
