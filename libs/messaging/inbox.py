"""Idempotent handling: remember which message ids a consumer has already applied.

Claim the message id inside the same transaction as the handler's changes; when the claim
finds the id already there, the message is a redelivery and the handler skips it.
"""

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import utc_now
from libs.messaging.tables import ProcessedMessage


async def claim_message(session: AsyncSession, consumer: str, message_id: str) -> bool:
    """True the first time ``consumer`` sees ``message_id`` in a committed transaction."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ProcessedMessage).values(
        consumer=consumer, message_id=message_id, processed_at=utc_now()
    )
    result = await session.execute(statement.on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0) == 1)


CLAIM_CHUNK = 500


async def claim_messages(session: AsyncSession, consumer: str, message_ids: list[str]) -> set[str]:
    """The ids of ``message_ids`` that ``consumer`` sees for the first time (one insert per
    500 ids); the others are redeliveries."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    unique = list(dict.fromkeys(message_ids))
    now = utc_now()
    claimed: set[str] = set()
    for start in range(0, len(unique), CLAIM_CHUNK):
        rows = [
            {"consumer": consumer, "message_id": message_id, "processed_at": now}
            for message_id in unique[start : start + CLAIM_CHUNK]
        ]
        statement = (
            insert(ProcessedMessage)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(col(ProcessedMessage.message_id))
        )
        claimed.update((await session.execute(statement)).scalars())
    return claimed


__all__ = ["claim_message", "claim_messages"]
