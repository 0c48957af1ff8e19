"""Run the one Alembic migration history against a database URL."""

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from libs.storage.database import create_engine
from libs.storage.metadata import all_tables_metadata

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def _upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


async def migrate_to_head(url: str) -> None:
    """Bring the schema to the newest revision (Alembic runs its own event loop in a thread)."""
    await asyncio.to_thread(_upgrade, url)


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, all_tables_metadata()))


async def pending_schema_changes(url: str) -> list[Any]:
    """Differences between the tables in code and the migrated database (empty when in sync)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


__all__ = ["alembic_config", "migrate_to_head", "pending_schema_changes"]
