"""ROI reproduces the worked examples users know, to the cent, in exact decimals."""

from decimal import Decimal

import pytest

from contracts.api.cost import HostingComparisonRequest
from services.cost.price_book import book_of, shipped_table
from services.cost.roi import hosting_comparison, roi_report

pytestmark = pytest.mark.unit


def test_500_examples_40_dollars_5000_calls_85_to_92_percent() -> None:
    report = roi_report(
        training_cost=Decimal(40),
        base_cost_per_call=Decimal("0.0015"),
        tuned_cost_per_call=Decimal("0.0015"),
        base_accuracy=Decimal("0.85"),
        tuned_accuracy=Decimal("0.92"),
        value_per_error=Decimal(10),
        calls_per_month=5000,
        horizon_months=6,
    )
    assert report.inference_saving_per_month_usd == 0
    assert report.accuracy_gain == Decimal("0.07")
    assert report.quality_value_per_month_usd == Decimal(3500)
    assert report.net_at_horizon_usd == Decimal(20960)  # $21,000 - $40
    assert report.roi_percent == Decimal(52400)
    assert report.payback_days is not None
    assert report.payback_days < 1  # break-even in under a day
    assert report.payback_days == Decimal("0.34")
    assert report.break_even_calls == 58  # 40 / (0.07 x 10) calls
    assert "under a day" in report.verdict
    body = report.model_dump(mode="json")
    assert body["quality_value_per_month_usd"] == "3500"
    assert body["roi_percent"] == "52400"


def test_cheaper_calls_and_fewer_errors_over_10000_calls() -> None:
    """$50 training, $0.002 -> $0.0015 a call, 85% -> 92%, 10,000 calls, $10 an error.

    The saving is (0.002 - 0.0015) x 10,000 = $5 (a write-up of this example said $50);
    the quality value is 0.07 x 10,000 x $10 = $7,000; net $6,955; payback immediate.
    """
    report = roi_report(
        training_cost=Decimal(50),
        base_cost_per_call=Decimal("0.002"),
        tuned_cost_per_call=Decimal("0.0015"),
        base_accuracy=Decimal("0.85"),
        tuned_accuracy=Decimal("0.92"),
        value_per_error=Decimal(10),
        calls_per_month=10_000,
        horizon_months=1,
    )
    assert report.inference_saving_per_call_usd == Decimal("0.0005")
    assert report.inference_saving_per_month_usd == Decimal(5)
    assert report.quality_value_per_month_usd == Decimal(7000)
    assert report.benefit_per_month_usd == Decimal(7005)
    assert report.net_at_horizon_usd == Decimal(6955)
    assert report.payback_days == Decimal("0.21")


def test_no_gain_never_pays_back() -> None:
    report = roi_report(
        training_cost=Decimal(40),
        base_cost_per_call=Decimal("0.001"),
        tuned_cost_per_call=Decimal("0.002"),
        base_accuracy=Decimal("0.9"),
        tuned_accuracy=Decimal("0.9"),
        value_per_error=Decimal(10),
        calls_per_month=1000,
        horizon_months=6,
    )
    assert report.payback_days is None
    assert report.break_even_calls is None
    assert report.net_at_horizon_usd == Decimal(-46)
    assert "does not pay off" in report.verdict


def test_hosted_fine_tuned_model_against_a_self_hosted_adapter() -> None:
    book = book_of(shipped_table("acme"))
    request = HostingComparisonRequest(
        hosted_model="gpt-3.5-turbo",
        hardware="a10",
        trained_tokens=1_000_000,
        training_examples=500,
        epochs=3,
        calls_per_month=5000,
        prompt_tokens_per_call=300,
        completion_tokens_per_call=100,
        horizon_months=6,
    )
    comparison = hosting_comparison(request, book)
    # hosted: 1M tokens x $8 = $8; a call is 300 x $3/1M + 100 x $6/1M = $0.0015
    assert comparison.hosted.training_cost_usd == Decimal(8)
    assert comparison.hosted.cost_per_call_usd == Decimal("0.0015")
    assert comparison.hosted.inference_per_month_usd == Decimal("7.5")
    assert comparison.hosted.total_at_horizon_usd == Decimal(53)
    # self-hosted on an a10 ($0.75/h, 30 examples/s, 800 tokens/s): 1,500 examples = 50 s
    assert comparison.self_hosted.training_cost_usd == Decimal("0.010416666667")
    # 400 tokens at 800 tokens/s = 0.5 s of an hour at $0.75
    assert comparison.self_hosted.cost_per_call_usd == Decimal("0.000104166667")
    assert comparison.cheaper == "self_hosted"
    assert comparison.price_version == 0
