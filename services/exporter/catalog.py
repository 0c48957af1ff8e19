"""Reading dataset versions back: list, detail, files and preview, one tenant at a time."""

from sqlalchemy import select
from sqlmodel import col

from contracts.api.datasets import DatasetDetail, DatasetManifest, DatasetVersionOut
from contracts.envelope import utc_now
from libs.storage import Database
from services.exporter.tables import ExporterDatasetVersion


def version_out(row: ExporterDatasetVersion) -> DatasetVersionOut:
    return DatasetVersionOut(
        id=row.id,
        dataset=row.dataset,
        version=row.version,
        format=row.format,
        created_at=row.created_at,
        train_rows=row.train_rows,
        test_rows=row.test_rows,
        artifact_sha256=row.train_sha256,
        manifest_sha256=row.manifest_sha256,
    )


def version_detail(row: ExporterDatasetVersion) -> DatasetDetail:
    return DatasetDetail(
        **version_out(row).model_dump(), manifest=DatasetManifest.model_validate(row.manifest)
    )


async def list_versions(
    database: Database, tenant: str, dataset: str | None = None
) -> list[ExporterDatasetVersion]:
    v = ExporterDatasetVersion
    statement = select(v).where(col(v.tenant) == tenant, col(v.deleted_at).is_(None))
    if dataset is not None:
        statement = statement.where(col(v.dataset) == dataset)
    statement = statement.order_by(col(v.dataset), col(v.version).desc())
    async with database.session() as session:
        return list((await session.execute(statement)).scalars())


async def find_version(
    database: Database, tenant: str, version_id: str
) -> ExporterDatasetVersion | None:
    v = ExporterDatasetVersion
    statement = select(v).where(
        col(v.id) == version_id, col(v.tenant) == tenant, col(v.deleted_at).is_(None)
    )
    async with database.session() as session:
        return (await session.execute(statement)).scalar_one_or_none()


async def soft_delete(database: Database, tenant: str, version_id: str) -> bool:
    """Hide a version from listings; its files stay (artifacts are immutable)."""
    v = ExporterDatasetVersion
    async with database.transaction() as session:
        statement = select(v).where(
            col(v.id) == version_id, col(v.tenant) == tenant, col(v.deleted_at).is_(None)
        )
        row = (await session.execute(statement)).scalar_one_or_none()
        if row is None:
            return False
        row.deleted_at = utc_now()
    return True


def split_sha256(row: ExporterDatasetVersion, name: str) -> str | None:
    """The artifact address of a split or of the manifest / lineage of a version."""
    manifest = DatasetManifest.model_validate(row.manifest)
    if name == "manifest":
        return row.manifest_sha256
    if name == "lineage":
        return manifest.lineage_sha256
    split = manifest.splits.get(name)
    return split.artifact_sha256 if split else None


__all__ = [
    "find_version",
    "list_versions",
    "soft_delete",
    "split_sha256",
    "version_detail",
    "version_out",
]
