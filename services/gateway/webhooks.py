"""Webhooks: a tenant's events POSTed to its URLs, signed, retried with back-off.

Durable JetStream consumers of the gateway turn each event into one delivery row per
matching webhook (in the database, acked only after the commit, so no event is lost across
a restart); a loop sends due deliveries and schedules retries (1 s, 2 s, 4 s ... up to 10 min)
until a 2xx or ``MAX_ATTEMPTS``. A webhook receives events from its creation on.

Receivers verify ``X-Tuneloop-Signature: sha256=<hex>``, the HMAC-SHA256 with the webhook's
secret of ``f"{X-Tuneloop-Timestamp}.{raw body}"``, and reject old timestamps.

Every delivery goes only where :mod:`services.gateway.webhook_targets` allows, checked after
resolving the host at the time of sending; a refused target fails the delivery at once.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from contracts.envelope import utc_now
from libs.background import BackgroundLoop
from libs.storage import Database
from services.gateway.tables import GatewayWebhook, GatewayWebhookDelivery
from services.gateway.webhook_targets import TargetRefused, TargetUnresolved, WebhookTargets

logger = logging.getLogger("tuneloop.gateway.webhooks")
WEBHOOK_CONCERNS = ("dataset", "job", "model", "evaluation", "experiment", "cost", "budget")
MAX_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 600.0
CLAIM_SECONDS = 60.0
POLL_SECONDS = 0.5
BATCH = 20


class WebhookRequestError(ValueError):
    """A webhook cannot be made as asked; the message says why."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def backoff_seconds(attempts: int) -> float:
    return float(min(2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def wanted(event_types: list[str], event_type: str) -> bool:
    concern = event_type.split(".", 1)[0]
    return event_type in event_types or f"{concern}.*" in event_types


def aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_event_types(event_types: list[str]) -> list[str]:
    for event_type in event_types:
        if event_type.split(".", 1)[0] not in WEBHOOK_CONCERNS:
            raise WebhookRequestError(
                f"event type {event_type!r} cannot be sent to a webhook; use types of "
                f"{', '.join(WEBHOOK_CONCERNS)} (e.g. job.completed or model.*)"
            )
    return list(dict.fromkeys(event_types))


class Webhooks:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(self, tenant: str, url: str, event_types: list[str]) -> GatewayWebhook:
        row = GatewayWebhook(
            id=f"wh_{secrets.token_hex(8)}",
            tenant=tenant,
            url=url,
            event_types=" ".join(check_event_types(event_types)),
            secret=f"whsec_{secrets.token_urlsafe(32)}",
        )
        async with self.database.transaction() as session:
            session.add(row)
        return row

    async def active(self, tenant: str) -> list[GatewayWebhook]:
        statement = (
            select(GatewayWebhook)
            .where(col(GatewayWebhook.tenant) == tenant, col(GatewayWebhook.deleted_at).is_(None))
            .order_by(col(GatewayWebhook.created_at))
        )
        async with self.database.session() as session:
            return list((await session.execute(statement)).scalars())

    async def find(self, tenant: str, webhook_id: str) -> GatewayWebhook | None:
        async with self.database.session() as session:
            row = await session.get(GatewayWebhook, webhook_id)
        if row is None or row.tenant != tenant or row.deleted_at is not None:
            return None
        return row

    async def delete(self, tenant: str, webhook_id: str) -> bool:
        async with self.database.transaction() as session:
            row = await session.get(GatewayWebhook, webhook_id)
            if row is None or row.tenant != tenant or row.deleted_at is not None:
                return False
            row.deleted_at = utc_now()
        return True

    async def deliveries(self, webhook_id: str, limit: int) -> list[GatewayWebhookDelivery]:
        statement = (
            select(GatewayWebhookDelivery)
            .where(col(GatewayWebhookDelivery.webhook_id) == webhook_id)
            .order_by(col(GatewayWebhookDelivery.id).desc())
            .limit(limit)
        )
        async with self.database.session() as session:
            return list((await session.execute(statement)).scalars())

    async def enqueue(self, event: dict[str, Any]) -> int:
        """One delivery per webhook of the event's tenant that wants it; idempotent."""
        tenant, event_type, event_id = event.get("tenant"), event.get("type"), event.get("id")
        if not (isinstance(tenant, str) and isinstance(event_type, str) and event_id):
            return 0
        happened = aware(datetime.fromisoformat(str(event.get("time"))))
        hooks = [
            hook
            for hook in await self.active(tenant)
            if wanted(hook.event_types.split(), event_type) and aware(hook.created_at) <= happened
        ]
        body = json.dumps(event, separators=(",", ":"))
        added = 0
        for hook in hooks:
            delivery = GatewayWebhookDelivery(
                webhook_id=hook.id,
                tenant=tenant,
                event_id=str(event_id),
                event_type=event_type,
                body=body,
            )
            try:
                async with self.database.transaction() as session:
                    session.add(delivery)
                added += 1
            except IntegrityError:
                pass  # a redelivered event: already owed
        return added


class WebhookSender:
    """Sends due deliveries until stopped; any gateway replica may run one."""

    def __init__(
        self,
        database: Database,
        targets: WebhookTargets,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.database = database
        self.targets = targets
        # no proxy from the environment (it would resolve names itself) and no redirects
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=5.0), trust_env=False, follow_redirects=False
        )
        self._loop = BackgroundLoop(
            "webhook-sender",
            self.send_round,
            POLL_SECONDS,
            on_error=lambda _: logger.exception("webhook delivery round failed"),
        )

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self.client.aclose()

    async def send_round(self) -> bool:
        """Send what is due; whether anything was (so more may be due at once)."""
        return await self.send_due() > 0

    async def claim_due(self) -> list[tuple[GatewayWebhookDelivery, GatewayWebhook]]:
        now = utc_now()
        claimed: list[tuple[GatewayWebhookDelivery, GatewayWebhook]] = []
        async with self.database.transaction() as session:
            rows = (
                await session.execute(
                    select(GatewayWebhookDelivery)
                    .where(
                        col(GatewayWebhookDelivery.status) == "pending",
                        col(GatewayWebhookDelivery.next_attempt_at) <= now,
                    )
                    .order_by(col(GatewayWebhookDelivery.id))
                    .limit(BATCH)
                )
            ).scalars()
            for row in list(rows):
                taken = await session.execute(
                    update(GatewayWebhookDelivery)
                    .where(
                        col(GatewayWebhookDelivery.id) == row.id,
                        col(GatewayWebhookDelivery.next_attempt_at) == row.next_attempt_at,
                    )
                    .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
                )
                hook = await session.get(GatewayWebhook, row.webhook_id)
                if taken.rowcount == 1 and hook is not None:  # type: ignore[attr-defined]
                    claimed.append((row, hook))
        return claimed

    async def send_due(self) -> int:
        claimed = await self.claim_due()
        await asyncio.gather(*(self.deliver(row, hook) for row, hook in claimed))
        return len(claimed)

    async def deliver(self, row: GatewayWebhookDelivery, hook: GatewayWebhook) -> None:
        if hook.deleted_at is not None:
            await self._finish(row, "failed", None, "the webhook was deleted")
            return
        body = row.body.encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tuneloop-webhooks",
            "X-Tuneloop-Event-Id": row.event_id,
            "X-Tuneloop-Event-Type": row.event_type,
            "X-Tuneloop-Timestamp": timestamp,
            "X-Tuneloop-Signature": signature(hook.secret, timestamp, body),
        }
        try:
            destination = await self.targets.destination(hook.url)
        except TargetRefused as exc:
            await self._finish(row, "failed", None, f"not sent: {exc}")
            return
        except TargetUnresolved as exc:
            await self._retry(row, None, str(exc))
            return
        try:
            response = await destination.post(self.client, body, headers)
        except httpx.HTTPError as exc:
            await self._retry(row, None, f"{type(exc).__name__}")
            return
        if 200 <= response.status_code < 300:
            await self._finish(row, "delivered", response.status_code, None)
        else:
            await self._retry(row, response.status_code, f"HTTP {response.status_code}")

    async def _retry(self, row: GatewayWebhookDelivery, code: int | None, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self._finish(row, "failed", code, error, attempts)
            return
        async with self.database.transaction() as session:
            stored = await session.get(GatewayWebhookDelivery, row.id)
            assert stored is not None
            stored.attempts = attempts
            stored.last_status_code = code
            stored.last_error = error[:500]
            stored.next_attempt_at = utc_now() + timedelta(seconds=backoff_seconds(attempts))

    async def _finish(
        self,
        row: GatewayWebhookDelivery,
        status: str,
        code: int | None,
        error: str | None,
        attempts: int | None = None,
    ) -> None:
        async with self.database.transaction() as session:
            stored = await session.get(GatewayWebhookDelivery, row.id)
            assert stored is not None
            stored.status = status
            stored.attempts = attempts if attempts is not None else row.attempts + 1
            stored.last_status_code = code
            stored.last_error = error
            if status == "delivered":
                stored.delivered_at = utc_now()


__all__ = [
    "WEBHOOK_CONCERNS",
    "WebhookRequestError",
    "WebhookSender",
    "Webhooks",
    "backoff_seconds",
    "signature",
    "wanted",
]
