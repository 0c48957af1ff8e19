"""Times read back from the database as timezone-aware UTC (SQLite keeps no zone)."""

from datetime import UTC, datetime


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


__all__ = ["aware", "aware_or_none"]
