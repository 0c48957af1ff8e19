"""HTTP bodies of the gateway's own API: keys, the audit log and webhooks."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["admin", "train", "deploy", "infer", "read"]
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyCreate(Body):
    name: str = Field(min_length=1, max_length=128, description="What the key is for.")
    scopes: list[Scope] = Field(min_length=1, description="admin implies every other scope.")
    tenant: str | None = Field(
        default=None,
        max_length=64,
        pattern=TENANT_PATTERN,
        description="Tenant of the new key; default the caller's. Only the operator tenant "
        "may create keys for another tenant.",
    )


class KeyPublic(Body):
    id: str
    tenant: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None = None


class KeyCreated(KeyPublic):
    key: str = Field(description="The full key (`tl_<id>_<secret>`); shown this once only.")


class KeyList(Body):
    object: Literal["list"] = "list"
    data: list[KeyPublic]


class AuditEntry(Body):
    id: int
    at: datetime
    tenant: str
    key_id: str | None
    method: str
    path: str
    status: int


class AuditLog(Body):
    object: Literal["list"] = "list"
    data: list[AuditEntry]
    has_more: bool


__all__ = [
    "AuditEntry",
    "AuditLog",
    "KeyCreate",
    "KeyCreated",
    "KeyList",
    "KeyPublic",
    "Scope",
]
