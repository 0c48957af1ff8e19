"""Tables of the messaging lib, shared by every service (rows are keyed by consumer)."""

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel

from contracts.envelope import utc_now


class ProcessedMessage(SQLModel, table=True):
    """A message a consumer has already handled: the inbox that makes handlers idempotent."""

    __tablename__ = "messaging_processed"

    consumer: str = Field(primary_key=True, max_length=128)
    message_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class OutboxMessage(SQLModel, table=True):
    """An event written in the same transaction as the state it reports, published later."""

    __tablename__ = "messaging_outbox"

    message_id: str = Field(primary_key=True, max_length=64)
    subject: str = Field(max_length=255)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True),
    )
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True)
    )


__all__ = ["OutboxMessage", "ProcessedMessage"]
