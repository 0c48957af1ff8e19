"""Throttled snapshots, the latency histogram and feedback values."""

from datetime import timedelta

import pytest

from contracts.envelope import utc_now
from services.evaluator.latency import bucket_of, quantile, upper_bound, with_latency
from services.evaluator.looks import looks_from_json, looks_to_json
from services.evaluator.metrics import feedback_value
from services.evaluator.statistics import SequentialLook
from services.evaluator.tables import Experiment
from services.evaluator.tracking import snapshot_due

pytestmark = pytest.mark.unit


def test_snapshots_are_throttled_per_experiment() -> None:
    now = utc_now()
    experiment = Experiment(tenant="t", experiment_id="e")
    assert snapshot_due(experiment, now, 5.0)
    experiment.last_snapshot_at = now - timedelta(seconds=2)
    assert not snapshot_due(experiment, now, 5.0)
    experiment.last_snapshot_at = now - timedelta(seconds=6)
    assert snapshot_due(experiment, now, 5.0)


def test_p99_from_the_histogram_is_within_one_bucket() -> None:
    histogram: list[int] = []
    for latency in [100.0] * 98 + [900.0, 1000.0]:
        histogram = with_latency(histogram, latency)
    p99 = quantile(histogram, 0.99)
    assert p99 is not None
    assert 900 <= p99 <= upper_bound(bucket_of(900)) < 900 * 1.2
    assert quantile([], 0.99) is None
    assert bucket_of(0.5) == 0


def test_feedback_values_per_metric() -> None:
    assert feedback_value("gold_star_rate", True, None) == 1.0
    assert feedback_value("task_success", False, 4) == 1.0
    assert feedback_value("task_success", False, 3) == 0.0
    assert feedback_value("mean_rating", False, None) is None
    assert feedback_value("mean_rating", False, 2) == 2.0


def test_running_looks_survive_json_with_infinite_bounds() -> None:
    look = SequentialLook(0.1, float("-inf"), float("inf"), 1.0, 1.0, float("inf"))
    assert looks_from_json(looks_to_json({"primary:t": look})) == {"primary:t": look}
