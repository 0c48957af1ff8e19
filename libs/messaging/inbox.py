"""Idempotent handling: remember which message ids a consumer has already applied.

Claim the message id inside the same transaction as the handler's changes; when the claim
finds the id already there, the message is a redelivery and the handler skips it.
"""

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

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


__all__ = ["claim_message"]
