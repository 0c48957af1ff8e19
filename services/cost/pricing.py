"""Exact money arithmetic: tokens at a price per million, hours at a rate per hour.

Every result is a :class:`~decimal.Decimal` rounded (half to even) to 12 decimal places, the
scale the ledger stores, so adding stored amounts never drifts.
"""

from decimal import ROUND_HALF_EVEN, Decimal

MILLION = Decimal(1_000_000)
SECONDS_PER_HOUR = Decimal(3600)
LEDGER_QUANTUM = Decimal("1e-12")


def exact(value: Decimal) -> Decimal:
    """``value`` at the ledger's scale (12 decimal places)."""
    return value.quantize(LEDGER_QUANTUM, rounding=ROUND_HALF_EVEN)


def seconds(value: float) -> Decimal:
    """A measured duration as a decimal (its shortest exact repr, not the binary float)."""
    return Decimal(repr(float(value)))


def tokens_cost(tokens: int, usd_per_1m: Decimal) -> Decimal:
    return exact(Decimal(tokens) * usd_per_1m / MILLION)


def hours(wall_seconds: float) -> Decimal:
    return exact(seconds(wall_seconds) / SECONDS_PER_HOUR)


def hours_cost(wall_seconds: float, usd_per_hour: Decimal) -> Decimal:
    return exact(seconds(wall_seconds) * usd_per_hour / SECONDS_PER_HOUR)


def inference_cost(
    prompt_tokens: int, completion_tokens: int, input_per_1m: Decimal, output_per_1m: Decimal
) -> Decimal:
    return exact(
        (Decimal(prompt_tokens) * input_per_1m + Decimal(completion_tokens) * output_per_1m)
        / MILLION
    )


def self_hosted_inference_cost(
    tokens: int, tokens_per_second: float, usd_per_hour: Decimal
) -> Decimal:
    """The share of a host's hour that serving ``tokens`` at ``tokens_per_second`` takes."""
    busy_seconds = Decimal(tokens) / seconds(tokens_per_second)
    return exact(busy_seconds * usd_per_hour / SECONDS_PER_HOUR)


__all__ = [
    "exact",
    "hours",
    "hours_cost",
    "inference_cost",
    "seconds",
    "self_hosted_inference_cost",
    "tokens_cost",
]
