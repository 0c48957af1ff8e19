"""HTTP bodies of the gateway's own API: keys, the audit log and webhooks."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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


class CallerKey(Body):
    """The key making a request, as ``GET /v1/me`` answers it."""

    id: str
    tenant: str
    name: str | None = Field(
        description="What the key is for; null when the gateway runs without keys (development)."
    )
    scopes: list[Scope] = Field(description="admin implies every other scope.")


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


WEBHOOK_EVENT_PATTERN = r"^[a-z]+\.([a-z_]+|\*)$"


class WebhookCreate(Body):
    url: str = Field(
        min_length=1,
        max_length=2048,
        pattern=r"^\S+$",
        description="Where events are POSTed: an http or https URL of a public address "
        "(private ones only where the operator allows them); a 422 says why a URL is refused.",
    )
    event_types: list[Annotated[str, StringConstraints(pattern=WEBHOOK_EVENT_PATTERN)]] = Field(
        min_length=1,
        max_length=50,
        description="Event types (`job.completed`) or whole concerns (`job.*`, `model.*`).",
    )


class WebhookPublic(Body):
    id: str
    url: str
    event_types: list[str]
    created_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str = Field(
        description="Signs every delivery: `X-Tuneloop-Signature: sha256=HMAC_SHA256(secret, "
        "f'{X-Tuneloop-Timestamp}.{body}')`. Shown this once only."
    )


class WebhookList(Body):
    object: Literal["list"] = "list"
    data: list[WebhookPublic]


class WebhookDeliveryPublic(Body):
    id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None


class WebhookDeliveryList(Body):
    object: Literal["list"] = "list"
    data: list[WebhookDeliveryPublic]


__all__ = [
    "WEBHOOK_EVENT_PATTERN",
    "AuditEntry",
    "AuditLog",
    "CallerKey",
    "KeyCreate",
    "KeyCreated",
    "KeyList",
    "KeyPublic",
    "Scope",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookDeliveryList",
    "WebhookDeliveryPublic",
    "WebhookList",
    "WebhookPublic",
]
