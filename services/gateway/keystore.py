"""The key store and the audit log, on the gateway's own tables."""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from contracts.envelope import utc_now
from contracts.events import ApiKeyRevoked
from libs.messaging import Bus, OutboxRelay, add_to_outbox
from libs.runtime import ServiceContext, shared_part
from libs.storage import Database
from services.gateway.keys import TENANT_PATTERN, new_key, parse_key, secret_hash, secret_matches
from services.gateway.tables import GatewayApiKey, GatewayAuditEntry

CACHE_SECONDS = 5.0
"""How long a verified key is trusted without reading the table again. Revoking forgets it
at once here and, through ``api_key.revoked``, on every other replica and router; this is
the bound only for a replica that missed the event (e.g. while disconnected from NATS)."""


class KeyRequestError(ValueError):
    """A key cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class Caller:
    key_id: str
    tenant: str
    scopes: tuple[str, ...]

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


@dataclass(frozen=True)
class CreatedKey:
    row: GatewayApiKey
    token: str


def scopes_of(row: GatewayApiKey) -> tuple[str, ...]:
    return tuple(row.scopes.split())


class KeyStore:
    def __init__(
        self, database: Database, bus: Bus | None = None, outbox: OutboxRelay | None = None
    ) -> None:
        """With ``bus`` and ``outbox``, a revocation is announced as ``api_key.revoked``,
        committed with the revocation itself."""
        self.database = database
        self.bus = bus
        self.outbox = outbox
        self._verified: dict[str, tuple[Caller, float]] = {}

    async def create(
        self, tenant: str, name: str, scopes: Sequence[str], created_by: str | None = None
    ) -> CreatedKey:
        if not TENANT_PATTERN.match(tenant):
            raise KeyRequestError(
                f"tenant {tenant!r} is not valid: use letters, digits, '.', '_' or '-' "
                "(at most 64, starting with a letter or digit)"
            )
        key = new_key()
        row = GatewayApiKey(
            id=key.key_id,
            tenant=tenant,
            name=name,
            scopes=" ".join(dict.fromkeys(scopes)),
            secret_sha256=secret_hash(key.secret),
            created_by=created_by,
        )
        async with self.database.transaction() as session:
            session.add(row)
        return CreatedKey(row, key.token)

    async def get(self, key_id: str) -> GatewayApiKey | None:
        async with self.database.session() as session:
            return await session.get(GatewayApiKey, key_id)

    async def list(self, tenant: str | None) -> list[GatewayApiKey]:
        statement = select(GatewayApiKey).order_by(col(GatewayApiKey.created_at))
        if tenant is not None:
            statement = statement.where(col(GatewayApiKey.tenant) == tenant)
        async with self.database.session() as session:
            return list((await session.execute(statement)).scalars())

    async def revoke(
        self, key_id: str, tenant: str | None, actor: str | None = None
    ) -> GatewayApiKey | None:
        """Revoke a key of ``tenant`` (any tenant when ``None``); ``None`` if there is none."""
        announced = False
        async with self.database.transaction() as session:
            row = await session.get(GatewayApiKey, key_id)
            if row is None or (tenant is not None and row.tenant != tenant):
                return None
            if row.revoked_at is None:
                row.revoked_at = utc_now()
                if self.bus is not None:
                    revoked = ApiKeyRevoked(
                        tenant=row.tenant, key_id=key_id, revoked_at=row.revoked_at, actor=actor
                    )
                    add_to_outbox(session, self.bus, revoked)
                    announced = True
        self.forget(key_id)
        if announced and self.outbox is not None:
            self.outbox.notify()
        return row

    def forget(self, key_id: str) -> None:
        """Drop what this replica remembers of a key (it was revoked, here or elsewhere)."""
        self._verified = {k: v for k, v in self._verified.items() if v[0].key_id != key_id}

    async def has_admin(self, tenant: str) -> bool:
        statement = select(GatewayApiKey).where(
            col(GatewayApiKey.tenant) == tenant, col(GatewayApiKey.revoked_at).is_(None)
        )
        async with self.database.session() as session:
            rows = (await session.execute(statement)).scalars()
            return any("admin" in scopes_of(row) for row in rows)

    async def authenticate(self, token: str) -> Caller | None:
        """The caller a key belongs to, or ``None`` for a malformed, unknown or revoked key."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        parsed = parse_key(token)
        if parsed is None:
            return None
        async with self.database.session() as session:
            row = await session.get(GatewayApiKey, parsed.key_id)
        if row is None or row.revoked_at is not None:
            secret_matches(parsed.secret, "0" * 64)  # same work whether the id exists or not
            return None
        if not secret_matches(parsed.secret, row.secret_sha256):
            return None
        caller = Caller(row.id, row.tenant, scopes_of(row))
        self._verified[token] = (caller, time.monotonic() + CACHE_SECONDS)
        return caller


def key_store_of(context: ServiceContext) -> KeyStore:
    """The process's key store: the API and the NATS handlers share one, and its cache, and
    it announces revocations."""
    return shared_part(
        context, "key_store", lambda: KeyStore(context.database, context.bus, context.outbox)
    )


class AuditLog:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(
        self, tenant: str, key_id: str | None, method: str, path: str, status: int
    ) -> None:
        entry = GatewayAuditEntry(
            tenant=tenant, key_id=key_id, method=method, path=path[:1024], status=status
        )
        async with self.database.transaction() as session:
            session.add(entry)

    async def entries(
        self, tenant: str, limit: int, before: int | None = None
    ) -> list[GatewayAuditEntry]:
        """The tenant's entries, newest first; ``before`` pages on by id."""
        statement = (
            select(GatewayAuditEntry)
            .where(col(GatewayAuditEntry.tenant) == tenant)
            .order_by(col(GatewayAuditEntry.id).desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(col(GatewayAuditEntry.id) < before)
        async with self.database.session() as session:
            return list((await session.execute(statement)).scalars())


__all__ = ["AuditLog", "Caller", "CreatedKey", "KeyRequestError", "KeyStore", "key_store_of"]
