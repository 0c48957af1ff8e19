"""One async engine per process and the sessions handlers and routes use.

SQLite gets WAL mode and a busy timeout so several service processes can share one file, and
a larger page cache; PostgreSQL uses asyncpg with a connection pool.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_CACHE_KIB = 65_536
"""Page cache per SQLite connection (SQLite's default is 2 MiB): the indexes of a table of a
million rows stay in memory, so inserting and reading in index order do not re-read pages."""
SQLITE_PAGE_SIZE = 8192
"""Page size of new SQLite databases (SQLite's default is 4 KiB): rows of examples are about
a kilobyte with their index entries, and inserting them costs about a sixth less CPU on
8 KiB pages. A database that already exists keeps its page size."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached or the URL is wrong; the message says how to fix it."""


def configure_sqlite(dbapi_connection: Any, _record: Any = None) -> None:
    """Set a new SQLite connection up as every connection of tuneloop's is (WAL, busy
    timeout, page cache); also for the driver's own connections, outside an engine."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # only a new, empty file takes it
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(
            f"database URL is not valid ({exc}); fix TUNELOOP_DATABASE_URL"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", configure_sqlite)
        return engine
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args={"timeout": 10}
    )


class Database:
    """An engine and its session factory, owned by one process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; the caller commits. Rolled back on error."""
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def session_dependency(self) -> AsyncIterator[AsyncSession]:
        """For FastAPI ``Depends``: one session per request."""
        async with self.sessions() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("select 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


async def check_database(url: str) -> None:
    """Connect once and run ``select 1``; raise :class:`DatabaseUnavailable` if that fails."""
    database: Database | None = None
    try:
        database = Database(url)
        await database.ping()
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"cannot connect to the database at {redacted(url)}: {reason}. "
            "Check TUNELOOP_DATABASE_URL (or unset it to use SQLite under .tuneloop/)"
        ) from None
    finally:
        if database is not None:
            await database.dispose()


__all__ = [
    "Database",
    "DatabaseUnavailable",
    "check_database",
    "configure_sqlite",
    "create_engine",
    "redacted",
]
