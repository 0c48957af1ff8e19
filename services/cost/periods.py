"""Budget periods: the start of the day, month or all time a moment falls in (UTC)."""

from datetime import UTC, datetime

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def period_start(period: str, moment: datetime) -> datetime:
    moment = as_utc(moment)
    if period == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return BEGINNING


def minute_of(moment: datetime) -> datetime:
    return as_utc(moment).replace(second=0, microsecond=0)


__all__ = ["BEGINNING", "as_utc", "minute_of", "period_start"]
