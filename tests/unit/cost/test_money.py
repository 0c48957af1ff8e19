"""Money stays exact: decimal amounts, strings in JSON, no drift over a million events."""

from decimal import Decimal

import pytest

from contracts.events import CostRecorded
from services.cost.pricing import hours_cost, inference_cost, tokens_cost

pytestmark = pytest.mark.unit


def test_a_million_small_inference_costs_add_up_exactly() -> None:
    per_request = inference_cost(7, 3, Decimal("0.15"), Decimal("0.60"))
    assert per_request == Decimal("0.00000285")
    total, drifting = Decimal(0), 0.0
    for _ in range(1_000_000):
        total += per_request
        drifting += float(per_request)
    assert total == Decimal("2.85")
    assert drifting != 2.85  # what a float ledger would have reported


def test_amounts_are_rounded_to_the_ledger_scale_half_to_even() -> None:
    assert tokens_cost(1, Decimal("0.0000005")) == Decimal("0")  # 5e-13 rounds to even 0
    assert tokens_cost(3, Decimal("0.0000005")) == Decimal("0.000000000002")
    assert hours_cost(1.0, Decimal("3.6")) == Decimal("0.001")
    assert hours_cost(0.1, Decimal(36)) == Decimal("0.001")  # 0.1 s, not 0.1000000000000000055


def test_cost_events_carry_money_as_strings() -> None:
    event = CostRecorded(
        entry_id="e",
        kind="inference",
        reference_id="bot@1-aaaaaaaa@2026-01-01T00:00Z",
        quantity=Decimal(10),
        unit="tokens",
        amount_usd=Decimal("0.000002850000"),
        price_version=0,
    )
    body = event.model_dump(mode="json")
    assert body["amount_usd"] == "0.00000285"
    assert CostRecorded.model_validate_json(event.model_dump_json()).amount_usd == Decimal(
        "0.00000285"
    )


def test_negative_money_is_refused() -> None:
    with pytest.raises(ValueError, match="amount_usd"):
        CostRecorded(
            entry_id="e",
            kind="training",
            reference_id="job",
            quantity=Decimal(1),
            unit="tokens",
            amount_usd=Decimal(-1),
            price_version=0,
        )
