"""Return on a fine-tuning: what it cost, what it saves per call, what its quality gain is worth.

Per month (30 days) at ``calls_per_month`` calls:

- inference saving = (baseline cost per call - tuned cost per call) x calls
- quality value    = (tuned accuracy - baseline accuracy) x calls x value per error avoided
- benefit          = inference saving + quality value
- break-even       = training cost / benefit per call (calls), and in days at that volume
- net at horizon   = benefit x months - training cost; ROI % = net / training cost x 100

For 500 examples, $40 of training, 5,000 calls a month, 85% → 92% and $10 per error this gives
$3,500 a month, break-even in under a day, $20,960 after six months: 52,400 %.
"""

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from contracts.api.cost import (
    HostingComparison,
    HostingComparisonRequest,
    HostingOption,
    RoiReport,
)
from services.cost.errors import InvalidRequest
from services.cost.price_book import PriceBook
from services.cost.pricing import (
    exact,
    hours_cost,
    inference_cost,
    self_hosted_inference_cost,
    tokens_cost,
)

DAYS_PER_MONTH = Decimal(30)
HUNDREDTH = Decimal("0.01")


def roi_report(
    *,
    training_cost: Decimal,
    base_cost_per_call: Decimal,
    tuned_cost_per_call: Decimal,
    base_accuracy: Decimal,
    tuned_accuracy: Decimal,
    value_per_error: Decimal,
    calls_per_month: int,
    horizon_months: int,
) -> RoiReport:
    calls = Decimal(calls_per_month)
    saving_per_call = base_cost_per_call - tuned_cost_per_call
    accuracy_gain = tuned_accuracy - base_accuracy
    benefit_per_call = saving_per_call + accuracy_gain * value_per_error
    saving_per_month = exact(saving_per_call * calls)
    quality_per_month = exact(accuracy_gain * calls * value_per_error)
    benefit_per_month = saving_per_month + quality_per_month
    net = benefit_per_month * horizon_months - training_cost
    break_even_calls = payback_days = None
    if benefit_per_call > 0:
        break_even_calls = int((training_cost / benefit_per_call).to_integral_value(ROUND_CEILING))
    if benefit_per_month > 0:
        payback_days = (training_cost / benefit_per_month * DAYS_PER_MONTH).quantize(
            HUNDREDTH, rounding=ROUND_HALF_EVEN
        )
    roi_percent = (
        (net / training_cost * 100).quantize(HUNDREDTH, rounding=ROUND_HALF_EVEN)
        if training_cost > 0
        else None
    )
    return RoiReport(
        training_cost_usd=training_cost,
        base_cost_per_call_usd=base_cost_per_call,
        tuned_cost_per_call_usd=tuned_cost_per_call,
        inference_saving_per_call_usd=exact(saving_per_call),
        inference_saving_per_month_usd=saving_per_month,
        accuracy_gain=accuracy_gain,
        quality_value_per_month_usd=quality_per_month,
        benefit_per_month_usd=benefit_per_month,
        break_even_calls=break_even_calls,
        payback_days=payback_days,
        horizon_months=horizon_months,
        net_at_horizon_usd=exact(net),
        roi_percent=roi_percent,
        verdict=roi_verdict(net, payback_days, horizon_months),
    )


def roi_verdict(net: Decimal, payback_days: Decimal | None, horizon_months: int) -> str:
    if payback_days is None:
        return (
            "The fine-tuned version does not pay off: it neither costs less per call nor "
            "makes fewer errors than its baseline."
        )
    when = "in under a day" if payback_days < 1 else f"in {payback_days} days"
    outcome = "gains" if net >= 0 else "loses"
    return (
        f"The fine-tuning pays for itself {when}; over {horizon_months} months it "
        f"{outcome} ${abs(net).quantize(HUNDREDTH)} net."
    )


def _option(
    option: str, training: Decimal, per_call: Decimal, calls: int, months: int
) -> HostingOption:
    per_month = exact(per_call * calls)
    return HostingOption(
        option=option,
        training_cost_usd=training,
        cost_per_call_usd=per_call,
        inference_per_month_usd=per_month,
        total_at_horizon_usd=training + per_month * months,
    )


def hosting_comparison(request: HostingComparisonRequest, book: PriceBook) -> HostingComparison:
    """A hosted fine-tuned API model against the same task on a self-hosted adapter."""
    training_price = book.model(request.hosted_model)
    hosted_price = book.fine_tuned(request.hosted_model)
    if (
        training_price is None
        or hosted_price is None
        or None
        in (training_price.training_per_1m, hosted_price.input_per_1m, hosted_price.output_per_1m)
    ):
        raise InvalidRequest(
            f"no complete price (training, input, output) for {request.hosted_model!r}; "
            "add it with POST /v1/prices",
            field="hosted_model",
        )
    hardware = book.hardware.get(request.hardware)
    if hardware is None:
        raise InvalidRequest(
            f"no price for hardware {request.hardware!r}; priced kinds are "
            f"{', '.join(sorted(book.hardware))}",
            field="hardware",
        )
    assert training_price.training_per_1m is not None
    assert hosted_price.input_per_1m is not None
    assert hosted_price.output_per_1m is not None
    hosted = _option(
        "hosted",
        tokens_cost(request.trained_tokens, training_price.training_per_1m),
        inference_cost(
            request.prompt_tokens_per_call,
            request.completion_tokens_per_call,
            hosted_price.input_per_1m,
            hosted_price.output_per_1m,
        ),
        request.calls_per_month,
        request.horizon_months,
    )
    examples = request.training_examples * request.epochs
    train_seconds = examples / hardware.examples_per_second
    throughput = request.inference_tokens_per_second or hardware.inference_tokens_per_second
    self_hosted = _option(
        "self_hosted",
        hours_cost(train_seconds, hardware.usd_per_hour),
        self_hosted_inference_cost(
            request.prompt_tokens_per_call + request.completion_tokens_per_call,
            throughput,
            hardware.usd_per_hour,
        ),
        request.calls_per_month,
        request.horizon_months,
    )
    difference = hosted.total_at_horizon_usd - self_hosted.total_at_horizon_usd
    cheaper = "equal" if difference == 0 else ("self_hosted" if difference > 0 else "hosted")
    return HostingComparison(
        hosted=hosted,
        self_hosted=self_hosted,
        cheaper=cheaper,
        difference_at_horizon_usd=abs(difference),
        price_version=book.version,
        verdict=hosting_verdict(cheaper, abs(difference), request),
    )


def hosting_verdict(cheaper: str, difference: Decimal, request: HostingComparisonRequest) -> str:
    if cheaper == "equal":
        return "Both cost the same over the horizon."
    winner = (
        f"a self-hosted adapter on {request.hardware}"
        if cheaper == "self_hosted"
        else f"the hosted {request.hosted_model}"
    )
    return (
        f"Over {request.horizon_months} months at {request.calls_per_month} calls a month, "
        f"{winner} is cheaper by ${difference.quantize(HUNDREDTH)} (hardware rates are yours "
        "to set in the price table; self-hosted serving assumes the host is paid only while busy)."
    )


__all__ = ["DAYS_PER_MONTH", "hosting_comparison", "roi_report"]
