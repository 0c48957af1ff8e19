"""When a policy starts a run by itself: pure decisions from counts and clocks.

New gold stars are the gold-star examples matching the policy's export filters now, minus
those counted when the last run started (or when the policy began counting): the exporter,
which owns the examples, counts them, so uploads, corrections and late ratings all count.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.api.retraining import RetrainingTrigger
from contracts.retraining import TriggerKind


@dataclass(frozen=True)
class Counts:
    """Gold stars counted when the last run started (``baseline``) and now (``now``)."""

    baseline: int | None
    now: int | None

    @property
    def new(self) -> int | None:
        if self.baseline is None or self.now is None:
            return None
        return max(0, self.now - self.baseline)


@dataclass(frozen=True)
class TriggerDecision:
    fire: TriggerKind | None
    reason: str = ""
    waiting_for: str | None = None


def duration_words(seconds: float) -> str:
    """``86400`` → ``1 day``, ``5400`` → ``1.5 hours``, ``90`` → ``90 seconds``."""
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and (seconds % size == 0 or seconds >= 2 * size):
            value = seconds / size
            text = f"{value:g}" if value == int(value) else f"{value:.1f}"
            return f"{text} {unit}{'' if value == 1 else 's'}"
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


def trigger_words(trigger: RetrainingTrigger) -> str:
    """The trigger as a person says it: ``every 100 new gold stars or every 1 day``."""
    parts = []
    if trigger.gold_stars is not None:
        stars = "gold star" if trigger.gold_stars == 1 else "gold stars"
        parts.append(f"every {trigger.gold_stars} new {stars}")
    if trigger.schedule_seconds is not None:
        parts.append(f"every {duration_words(trigger.schedule_seconds)} (with new data)")
    return " or ".join(parts)


def next_scheduled(trigger: RetrainingTrigger, anchor: datetime) -> datetime | None:
    if trigger.schedule_seconds is None:
        return None
    return anchor + timedelta(seconds=trigger.schedule_seconds)


def schedule_due(trigger: RetrainingTrigger, anchor: datetime, now: datetime) -> bool:
    due = next_scheduled(trigger, anchor)
    return due is not None and now >= due


def decide(
    trigger: RetrainingTrigger, counts: Counts, anchor: datetime, now: datetime
) -> TriggerDecision:
    """Whether to start a run now, and why (or what it waits for)."""
    new = counts.new
    if new is None:
        return TriggerDecision(None, waiting_for="the exporter has not counted the gold stars yet")
    if trigger.gold_stars is not None and new >= trigger.gold_stars:
        return TriggerDecision(
            "gold_stars",
            f"{new} new gold-star example{'s' if new != 1 else ''} since the last run "
            f"(the policy retrains every {trigger.gold_stars})",
        )
    if schedule_due(trigger, anchor, now):
        if new == 0:
            return TriggerDecision(
                None,
                waiting_for="the schedule is due, but no new gold star arrived since the "
                "last run (retraining on the same data would teach nothing)",
            )
        assert trigger.schedule_seconds is not None
        return TriggerDecision(
            "schedule",
            f"the schedule is due (every {duration_words(trigger.schedule_seconds)}) and {new} "
            f"new gold-star example{'s' if new != 1 else ''} arrived since the last run",
        )
    return TriggerDecision(None)


def count_wanted(
    trigger: RetrainingTrigger,
    counted_at: datetime | None,
    anchor: datetime,
    now: datetime,
    recent_gold_star: bool,
    every_seconds: float,
) -> bool:
    """Whether to ask the exporter for the count now: never counted, a gold star just
    arrived, the schedule became due since the last count, or the periodic count is due."""
    if counted_at is None or recent_gold_star:
        return True
    due = next_scheduled(trigger, anchor)
    if due is not None and now >= due > counted_at:
        return True
    return now - counted_at >= timedelta(seconds=every_seconds)


__all__ = [
    "Counts",
    "TriggerDecision",
    "count_wanted",
    "decide",
    "duration_words",
    "next_scheduled",
    "schedule_due",
    "trigger_words",
]
