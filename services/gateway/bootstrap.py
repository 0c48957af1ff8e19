"""The first admin key, made by ``tuneloop up`` and ``tuneloop keys create`` on the database."""

import os
from collections.abc import Sequence
from pathlib import Path

from libs.storage import Database
from services.gateway.keystore import CreatedKey, KeyStore

ADMIN_KEY_FILE = "admin.key"


async def create_key(
    database_url: str, tenant: str, name: str, scopes: Sequence[str]
) -> CreatedKey:
    database = Database(database_url)
    try:
        return await KeyStore(database).create(tenant, name, scopes)
    finally:
        await database.dispose()


async def ensure_admin_key(database_url: str, home: Path, tenant: str = "default") -> str | None:
    """Create an admin key for ``tenant`` if it has none; write it to ``home/admin.key``
    (mode 0600) and return it. ``None`` when an admin key already exists."""
    database = Database(database_url)
    try:
        store = KeyStore(database)
        if await store.has_admin(tenant):
            return None
        created = await store.create(tenant, "first admin key (tuneloop up)", ["admin"])
    finally:
        await database.dispose()
    write_secret_file(home / ADMIN_KEY_FILE, created.token)
    return created.token


def write_secret_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text + "\n")


__all__ = ["ADMIN_KEY_FILE", "create_key", "ensure_admin_key", "write_secret_file"]
