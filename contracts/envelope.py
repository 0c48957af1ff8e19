"""The envelope every message carries: id, type, schema version, tenant and time.

The id is sent as the ``Nats-Msg-Id`` header so JetStream drops duplicate publishes, and
handlers use it to ignore redeliveries. The trace context travels in the W3C ``traceparent``
header next to it, so the body stays the business payload plus this envelope.
"""

from datetime import UTC, datetime
from typing import ClassVar
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field


def new_message_id() -> str:
    """A new globally unique message id."""
    return uuid4().hex


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Message(BaseModel):
    """Fields every event, command and query shares.

    A concrete message narrows ``type`` to a literal, e.g.
    ``type: Literal["job.completed"] = "job.completed"``, which also names its subject.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        default_factory=new_message_id,
        min_length=1,
        max_length=64,
        description="Unique message id; the JetStream de-duplication key.",
    )
    type: str = Field(description="Message type, e.g. `dataset.exported`.")
    schema_version: int = Field(default=1, ge=1, description="Version of this type's schema.")
    tenant: str = Field(
        default="default",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Tenant the message belongs to.",
    )
    time: datetime = Field(default_factory=utc_now, description="When the message was created.")

    @classmethod
    def message_type(cls) -> str:
        """The literal type of this message class, e.g. ``job.completed``."""
        default = cls.model_fields["type"].default
        if not isinstance(default, str) or not default:
            raise TypeError(f"{cls.__name__} must declare a literal default for `type`")
        return default


class Event(Message):
    """A fact that happened, named in the past tense (``job.completed``).

    Its concern (the first part of the type) selects the JetStream stream that stores it.
    """

    @classmethod
    def concern(cls) -> str:
        """The part of the type before the first dot: ``job`` for ``job.completed``."""
        return cls.message_type().split(".", 1)[0]


class Command(Message):
    """An imperative request for exactly one owning service (``job.create``).

    ``SERVICE`` names the owner; its work-queue stream holds the command until it is done.
    """

    SERVICE: ClassVar[str] = ""


class Query(Message):
    """A request-reply question answered by one service, never stored in a stream."""

    SERVICE: ClassVar[str] = ""


__all__ = ["Command", "Event", "Message", "Query", "new_message_id", "utc_now"]
