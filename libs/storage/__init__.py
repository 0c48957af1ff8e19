"""Database access: async SQLModel engines for SQLite and PostgreSQL, sessions, migrations."""

from libs.storage.database import Database, DatabaseUnavailable, check_database
from libs.storage.group_commit import GroupCommit
from libs.storage.migrations_runner import migrate_to_head, pending_schema_changes

__all__ = [
    "Database",
    "DatabaseUnavailable",
    "GroupCommit",
    "check_database",
    "migrate_to_head",
    "pending_schema_changes",
]
