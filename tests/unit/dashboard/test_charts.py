"""Server-drawn SVG charts and the numbers behind them."""

import re

import pytest

from services.gateway.dashboard import explain
from services.gateway.dashboard.charts import (
    Interval,
    Series,
    bar_chart,
    interval_chart,
    line_chart,
)
from services.gateway.dashboard.rendering import usd

pytestmark = pytest.mark.unit


def test_a_loss_curve_falls_from_top_left_to_bottom_right() -> None:
    svg = str(
        line_chart(
            "Loss", [Series("training loss", [(1, 4.0), (5, 2.0), (9, 1.0)])], "step", "loss"
        )
    )
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert "<title>Loss</title>" in svg
    points = re.search(r'points="([^"]+)"', svg)
    assert points is not None
    (x1, y1), *_, (x3, y3) = [tuple(map(float, p.split(","))) for p in points.group(1).split()]
    assert x1 < x3  # steps grow to the right
    assert y1 < y3  # a lower loss is drawn lower (SVG y grows downwards)


def test_intervals_place_each_arm_and_the_zero_line() -> None:
    svg = str(
        interval_chart(
            "Difference",
            [Interval("new", 0.3, 0.1, 0.5), Interval("<script>", -0.1, -0.2, 0.0)],
            0.0,
        )
    )
    assert svg.count('class="interval"') == 2
    assert 'class="reference"' in svg
    assert "<script>" not in svg  # labels are escaped
    assert "&lt;script&gt;" in svg


def test_stacked_bars_and_empty_charts() -> None:
    svg = str(
        bar_chart(
            "Cost",
            ["2026-11-21", "2026-11-22"],
            [Series("training", [(0, 1.0), (1, 0.0)]), Series("inference", [(0, 0.5), (1, 2.0)])],
            "USD",
        )
    )
    assert svg.count('class="bar"') == 4
    assert "2026-11-22 inference: 2" in svg
    assert str(line_chart("Loss", [], "step", "loss")) == ""
    assert str(bar_chart("Cost", [], [], "USD")) == ""


def test_arm_intervals_and_verdicts_in_words() -> None:
    interval = explain.arm_interval({"variant": "a", "n": 100, "total": 50, "total_squares": 50})
    assert interval.value == 0.5
    assert (round(interval.low, 3), round(interval.high, 3)) == (0.402, 0.598)
    empty = explain.arm_interval({"variant": "b", "n": 0, "total": 0, "total_squares": 0})
    assert empty.value == 0.0
    running = {"verdict": None, "arms": [{"n": 12}, {"n": 30}], "planned_units_per_arm": 200}
    assert explain.verdict_words(running).startswith(
        "Still collecting data: the smallest arm has 12"
    )
    assert "roll it back" in explain.verdict_words({"verdict": "stopped_by_guardrail"})


def test_money_reads_as_cents_or_fractions_of_a_cent() -> None:
    assert usd("0.000833333333") == "$0.0008"
    assert usd("12.5") == "$12.50"
    assert usd("0") == "$0.00"
    assert usd("-1234.567") == "$-1,234.57"
