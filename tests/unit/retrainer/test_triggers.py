"""When a policy starts a run by itself, and when it asks the exporter for its count."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.api.retraining import RetrainingTrigger
from services.retrainer.comparison import compare
from services.retrainer.triggers import (
    Counts,
    count_wanted,
    decide,
    duration_words,
    next_scheduled,
    trigger_words,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_trigger_needs_gold_stars_or_a_schedule() -> None:
    with pytest.raises(ValueError, match="gold_stars"):
        RetrainingTrigger()
    assert RetrainingTrigger(schedule_seconds=3600).gold_stars is None


@pytest.mark.parametrize(
    ("baseline", "now", "fires"),
    [(100, 109, False), (100, 110, True), (100, 250, True), (None, 500, False)],
)
def test_n_new_gold_stars_since_the_last_run_start_one(
    baseline: int | None, now: int, fires: bool
) -> None:
    decision = decide(RetrainingTrigger(gold_stars=10), Counts(baseline, now), NOW, NOW)
    assert (decision.fire == "gold_stars") is fires
    if fires:
        assert decision.reason.startswith(f"{now - 100} new gold-star examples since the last run")
        assert "(the policy retrains every 10)" in decision.reason


def test_counts_that_went_down_mean_no_new_gold_star() -> None:
    assert Counts(100, 90).new == 0
    assert Counts(None, 90).new is None


def test_a_due_schedule_starts_a_run_only_with_new_data() -> None:
    trigger = RetrainingTrigger(schedule_seconds=3600)
    anchor = NOW - 2 * HOUR
    due = decide(trigger, Counts(100, 101), anchor, NOW)
    assert due.fire == "schedule"
    assert due.reason == (
        "the schedule is due (every 1 hour) and 1 new gold-star example arrived since the last run"
    )
    idle = decide(trigger, Counts(100, 100), anchor, NOW)
    assert idle.fire is None
    assert idle.waiting_for is not None
    assert "no new gold star" in idle.waiting_for
    assert decide(trigger, Counts(100, 150), NOW - HOUR / 2, NOW).fire is None
    assert next_scheduled(trigger, anchor) == NOW - HOUR


def test_gold_stars_win_over_the_schedule_when_both_fire() -> None:
    trigger = RetrainingTrigger(gold_stars=5, schedule_seconds=60)
    assert decide(trigger, Counts(0, 7), NOW - HOUR, NOW).fire == "gold_stars"
    assert decide(trigger, Counts(0, 3), NOW - HOUR, NOW).fire == "schedule"


def test_the_exporter_is_asked_when_a_count_can_change_a_decision() -> None:
    trigger = RetrainingTrigger(gold_stars=10, schedule_seconds=3600)
    anchor = NOW - HOUR / 2
    fresh = NOW - timedelta(seconds=5)
    assert count_wanted(trigger, None, anchor, NOW, False, 60)
    assert count_wanted(trigger, fresh, anchor, NOW, True, 60)
    assert not count_wanted(trigger, fresh, anchor, NOW, False, 60)
    assert count_wanted(trigger, NOW - timedelta(seconds=61), anchor, NOW, False, 60)
    became_due = NOW - HOUR - timedelta(seconds=10)
    assert count_wanted(trigger, fresh - HOUR / 2, became_due, NOW, False, 3600)
    assert not count_wanted(trigger, fresh, became_due, NOW, False, 3600)


def test_triggers_and_durations_read_as_words() -> None:
    assert duration_words(86400) == "1 day"
    assert duration_words(5400) == "90 minutes"
    assert duration_words(9000) == "2.5 hours"
    assert duration_words(90) == "90 seconds"
    assert duration_words(45) == "45 seconds"
    assert duration_words(1209600) == "2 weeks"
    trigger = RetrainingTrigger(gold_stars=1, schedule_seconds=86400)
    assert trigger_words(trigger) == "every 1 new gold star or every 1 day (with new data)"


def test_the_offline_comparison_says_what_it_compared() -> None:
    outcome = compare(
        {"prompts": 10.0, "exact_match": 0.5}, {"exact_match": 0.6}, "exact_match", 0.2, "b", "a"
    )
    assert outcome.not_worse
    assert outcome.words == (
        "b scored 0.500 exact_match against 0.600 for the serving a on 10 prompts "
        "(-0.100; not worse needs at least 0.400): not worse within the 0.2 margin"
    )
    missing = compare({"prompts": 1.0}, {"exact_match": 0.6}, "exact_match", 0.0, "b", "a")
    assert not missing.not_worse
    assert missing.problem == "no_metric"


def test_a_margin_wider_than_the_score_asks_for_no_less_than_zero() -> None:
    outcome = compare(
        {"prompts": 3.0, "exact_match": 0.0}, {"exact_match": 0.0}, "exact_match", 1.0, "b", "a"
    )
    assert outcome.not_worse
    assert "(+0.000; not worse needs at least 0.000): not worse" in outcome.words
