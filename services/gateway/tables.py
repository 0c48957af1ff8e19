"""Tables of the gateway: API keys (hashed secrets) and the audit log of mutating requests."""

from datetime import datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.envelope import utc_now


class GatewayApiKey(SQLModel, table=True):
    """One API key. Only the sha256 of its secret is stored; the secret is shown once."""

    __tablename__ = "gateway_api_keys"

    id: str = Field(primary_key=True, max_length=16)
    tenant: str = Field(max_length=64, index=True)
    name: str = Field(max_length=128)
    scopes: str = Field(max_length=128, description="Space-separated scopes.")
    secret_sha256: str = Field(max_length=64)
    created_by: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class GatewayAuditEntry(SQLModel, table=True):
    """Who did what: one mutating request through the gateway."""

    __tablename__ = "gateway_audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    tenant: str = Field(max_length=64, index=True)
    key_id: str | None = Field(default=None, max_length=16)
    method: str = Field(max_length=8)
    path: str = Field(max_length=1024)
    status: int


class GatewayWebhook(SQLModel, table=True):
    """A URL that receives a tenant's events of some types, signed with its secret.

    The secret is kept as given (it signs every delivery) and shown to the API only once.
    """

    __tablename__ = "gateway_webhooks"

    id: str = Field(primary_key=True, max_length=32)
    tenant: str = Field(max_length=64, index=True)
    url: str = Field(max_length=2048)
    event_types: str = Field(max_length=1024, description="Space-separated; `job.*` allowed.")
    secret: str = Field(max_length=128)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class GatewayWebhookDelivery(SQLModel, table=True):
    """One event owed to one webhook, retried with back-off until delivered or given up."""

    __tablename__ = "gateway_webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: str = Field(max_length=32, index=True)
    tenant: str = Field(max_length=64)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


__all__ = ["GatewayApiKey", "GatewayAuditEntry", "GatewayWebhook", "GatewayWebhookDelivery"]
