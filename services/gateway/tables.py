"""Tables of the gateway: API keys (hashed secrets) and the audit log of mutating requests."""

from datetime import datetime

from sqlalchemy import Column, DateTime
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


__all__ = ["GatewayApiKey", "GatewayAuditEntry"]
