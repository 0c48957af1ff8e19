"""Transactional outbox: events stored with the state change they report, then published.

A service that crashes between committing and publishing loses nothing: the relay publishes
whatever is still pending when it starts again, with the original message id, so JetStream
drops a publish that had in fact already gone through.
"""

import logging

from opentelemetry.propagate import inject
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import Command, Event, utc_now
from libs.background import BackgroundLoop
from libs.messaging.bus import Bus, message_headers
from libs.messaging.tables import OutboxMessage
from libs.storage.database import Database

logger = logging.getLogger("tuneloop.messaging.outbox")

RELAY_BATCH = 100
RELAY_IDLE_SECONDS = 1.0
"""How long the relay waits, when nothing wakes it, before looking for pending rows again
(rows a crashed process left, or a notify that went to another replica)."""


def add_to_outbox(session: AsyncSession, bus: Bus, message: Event | Command) -> None:
    """Stage an event (or a command for another service) in the caller's transaction; the
    relay publishes it after commit."""
    headers = message_headers(message)
    inject(headers)
    subject = (
        bus.subjects.command(type(message))
        if isinstance(message, Command)
        else bus.subjects.event(type(message))
    )
    session.add(
        OutboxMessage(
            message_id=message.id,
            subject=subject,
            payload=message.model_dump_json(),
            headers=headers,
        )
    )


class OutboxRelay:
    """Publishes pending outbox rows in creation order until stopped."""

    def __init__(self, database: Database, bus: Bus) -> None:
        self.database = database
        self.bus = bus
        self._last_error = ""
        self._loop = BackgroundLoop(
            "outbox-relay", self.relay_round, RELAY_IDLE_SECONDS, on_error=self._log_failure
        )

    def notify(self) -> None:
        """Publish soon: call after committing a transaction that added to the outbox."""
        self._loop.wake()

    async def publish_pending(self) -> int:
        """Publish one batch; return how many rows were published."""
        async with self.database.transaction() as session:
            pending = (
                select(OutboxMessage)
                .where(col(OutboxMessage.published_at).is_(None))
                .order_by(col(OutboxMessage.created_at))
                .limit(RELAY_BATCH)
            )
            rows = (await session.execute(pending)).scalars().all()
            for row in rows:
                await self.bus.broker.publish(
                    row.payload.encode(),
                    row.subject,
                    headers=dict(row.headers),
                    stream=self._stream_of(row.subject),
                )
                row.published_at = utc_now()
            return len(rows)

    def _stream_of(self, subject: str) -> str:
        commands = f"{self.bus.subjects.prefix}.commands."
        if subject.startswith(commands):
            return self.bus.subjects.commands_stream(subject.removeprefix(commands).split(".")[0])
        concern = subject.removeprefix(f"{self.bus.subjects.prefix}.events.").split(".", 1)[0]
        return self.bus.subjects.events_stream(concern)

    async def relay_round(self) -> bool:
        """Publish one batch; whether a full one went (so there may be more at once)."""
        published = await self.publish_pending()
        self._last_error = ""
        return published == RELAY_BATCH

    def _log_failure(self, exc: Exception) -> None:
        """Log a failure with its traceback once, then only when the error changes."""
        error = f"{type(exc).__name__}: {exc}"
        if error != self._last_error:
            logger.exception("outbox relay failed; retrying until it succeeds")
        self._last_error = error

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()


__all__ = ["OutboxRelay", "add_to_outbox"]
