"""Storage on SQLite and PostgreSQL: migrations, idempotent claims, atomic transactions."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from libs.messaging import claim_message
from libs.messaging.tables import ProcessedMessage
from libs.storage import Database, DatabaseUnavailable, check_database, pending_schema_changes
from libs.storage.metadata import table_modules

pytestmark = pytest.mark.integration


async def test_migrations_create_every_table_in_code(migrated_database_url: str) -> None:
    assert await pending_schema_changes(migrated_database_url) == []


async def test_migrating_twice_changes_nothing(migrated_database_url: str) -> None:
    from libs.storage import migrate_to_head

    await migrate_to_head(migrated_database_url)
    assert await pending_schema_changes(migrated_database_url) == []


def test_each_table_belongs_to_one_package() -> None:
    from libs.storage.metadata import all_tables_metadata

    owners = [module.split(".")[1] for module in table_modules()]
    for table in all_tables_metadata().tables:
        assert any(table.startswith(f"{owner}_") for owner in owners), table


async def test_a_message_is_claimed_once_per_consumer(migrated_database_url: str) -> None:
    database = Database(migrated_database_url)
    try:
        async with database.transaction() as session:
            assert await claim_message(session, "registry", "m-1")
        async with database.transaction() as session:
            assert not await claim_message(session, "registry", "m-1")
            assert await claim_message(session, "cost", "m-1")
    finally:
        await database.dispose()


async def test_a_failed_transaction_leaves_nothing(migrated_database_url: str) -> None:
    database = Database(migrated_database_url)
    try:
        with pytest.raises(RuntimeError, match="handler failed"):
            async with database.transaction() as session:
                await claim_message(session, "registry", "m-rolled-back")
                raise RuntimeError("handler failed")
        async with database.session() as session:
            count = await session.scalar(select(func.count()).select_from(ProcessedMessage))
        assert count == 0
        async with database.transaction() as session:
            assert await claim_message(session, "registry", "m-rolled-back")
    finally:
        await database.dispose()


async def test_sessions_see_the_dialect(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.session() as session:
            assert (await session.execute(text("select 1"))).scalar() == 1
        assert database.dialect in {"sqlite", "postgresql"}
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://nobody@127.0.0.1:1/missing",
        "sqlite+aiosqlite:////proc/forbidden/tuneloop.db",
    ],
)
async def test_an_unreachable_database_is_explained(url: str) -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await check_database(url)
    message = str(caught.value)
    assert "TUNELOOP_DATABASE_URL" in message
    assert "\n" not in message
    assert not isinstance(caught.value.__cause__, OperationalError | DBAPIError)


async def test_a_new_sqlite_database_has_large_pages_and_an_old_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    from libs.storage import migrate_to_head
    from libs.storage.database import SQLITE_PAGE_SIZE

    new = tmp_path / "new.db"
    await migrate_to_head(f"sqlite+aiosqlite:///{new}")
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as connection:
        connection.execute("CREATE TABLE made_before (id INTEGER PRIMARY KEY)")
    await migrate_to_head(f"sqlite+aiosqlite:///{old}")
    for path, size in ((new, SQLITE_PAGE_SIZE), (old, 4096)):
        database = Database(f"sqlite+aiosqlite:///{path}")
        try:
            async with database.session() as session:
                assert (await session.execute(text("PRAGMA page_size"))).scalar_one() == size
                assert (await session.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        finally:
            await database.dispose()
