"""Column fields several services' tables share: timezone-aware timestamps and JSON."""

from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field

from contracts.envelope import utc_now


def timestamp_field(**options: Any) -> Any:
    """A required timestamp (with time zone), now by default."""
    return Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, **options),
    )


def optional_timestamp_field() -> Any:
    """A timestamp (with time zone) that may be unset."""
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


def json_field(default: Any = dict) -> Any:
    """A required JSON column, ``default()`` when not given."""
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


__all__ = ["json_field", "optional_timestamp_field", "timestamp_field"]
