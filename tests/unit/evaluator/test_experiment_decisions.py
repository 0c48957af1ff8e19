"""The experiment policy on hand-made sums: verdicts, actions and the words that explain them."""

import pytest

from contracts.events import ExperimentStarted
from contracts.events.experiments import ExperimentArm, Guardrails, StoppingPolicy
from services.evaluator.arms import ArmState
from services.evaluator.decision import decide, planned_units_per_arm
from services.evaluator.latency import with_latency
from services.evaluator.statistics import Summary

pytestmark = pytest.mark.unit


def definition(**overrides: object) -> ExperimentStarted:
    fields: dict[str, object] = {
        "tenant": "acme",
        "experiment_id": "exp-1",
        "control": ExperimentArm(
            variant="control", model_name="bot", version=1, serving_name="bot@1-aaaa", weight=1
        ),
        "treatments": [
            ExperimentArm(
                variant="tuned", model_name="bot", version=2, serving_name="bot@2-bbbb", weight=1
            )
        ],
        "minimum_detectable_effect": 0.05,
    }
    fields.update(overrides)
    return ExperimentStarted.model_validate(fields)


def arm(
    variant: str,
    requests: int,
    successes: int,
    errors: int = 0,
    latency_ms: float = 100.0,
    serving_name: str | None = None,
) -> ArmState:
    histogram: list[int] = []
    for _ in range(20):
        histogram = with_latency(histogram, latency_ms)
    return ArmState(
        variant=variant,
        serving_name=serving_name or f"bot-{variant}",
        requests=requests,
        errors=errors,
        fallbacks=0,
        latency_total_ms=latency_ms * requests,
        latency_histogram=tuple(histogram),
        metric=Summary.of_proportion(requests, successes),
    )


def test_a_clear_win_promotes_the_treatment_and_says_why() -> None:
    decision = decide(
        definition(), {"control": arm("control", 1000, 300), "tuned": arm("tuned", 1000, 420)}, {}
    )
    assert decision.verdict == "treatment_wins"
    assert decision.winner == "tuned"
    assert decision.action == "promote"
    assert decision.route_to == "bot@2-bbbb"
    assert decision.p_value is not None
    assert decision.p_value < 0.05
    assert "Promoting bot version 2 to 'production'" in decision.summary
    assert "42.0% against 30.0%" in decision.summary
    assert decision.recommendation is not None
    assert "60% quality" in decision.recommendation


def test_without_auto_promotion_a_winner_is_only_reported() -> None:
    decision = decide(
        definition(stopping=StoppingPolicy(auto_promote=False)),
        {"control": arm("control", 1000, 300), "tuned": arm("tuned", 1000, 420)},
        {},
    )
    assert (decision.verdict, decision.action) == ("treatment_wins", "none")
    assert "deploy it when you are ready" in decision.summary


def test_a_clear_loss_routes_traffic_back_to_control() -> None:
    decision = decide(
        definition(), {"control": arm("control", 1000, 400), "tuned": arm("tuned", 1000, 280)}, {}
    )
    assert decision.verdict == "control_wins"
    assert decision.action == "route_to_control"
    assert decision.route_to == "bot@1-aaaa"
    assert "All traffic goes back to control (bot@1-aaaa)" in decision.summary


def test_sample_ratio_mismatch_stops_before_any_comparison() -> None:
    decision = decide(
        definition(), {"control": arm("control", 1200, 360), "tuned": arm("tuned", 900, 400)}, {}
    )
    assert decision.verdict == "sample_ratio_mismatch"
    assert decision.action == "route_to_control"
    assert "sample-ratio mismatch" in decision.summary


def test_an_error_rate_guardrail_breach_stops_a_winning_treatment() -> None:
    decision = decide(
        definition(guardrails=Guardrails(max_error_rate_increase=0.02)),
        {
            "control": arm("control", 1000, 300, errors=10),
            "tuned": arm("tuned", 1000, 420, errors=120),
        },
        {},
    )
    assert decision.verdict == "stopped_by_guardrail"
    assert "error rate of 'tuned' is 12.0% against 1.0%" in decision.summary


def test_a_p99_latency_guardrail() -> None:
    decision = decide(
        definition(guardrails=Guardrails(max_p99_latency_ms=500)),
        {"control": arm("control", 500, 150), "tuned": arm("tuned", 500, 150, latency_ms=900)},
        {},
    )
    assert decision.verdict == "stopped_by_guardrail"
    assert "p99 latency of 'tuned'" in decision.reasons[0]


def test_nothing_is_decided_before_the_minimum_units() -> None:
    decision = decide(
        definition(), {"control": arm("control", 50, 10), "tuned": arm("tuned", 50, 40)}, {}
    )
    assert decision.verdict is None
    assert decision.summary.startswith("Collecting data")


def test_fixed_horizon_waits_for_the_planned_sample_size() -> None:
    fixed = definition(stopping=StoppingPolicy(method="fixed_horizon"), baseline=0.3)
    planned = planned_units_per_arm(fixed, Summary.of_proportion(0, 0))
    assert planned == 1377
    early = decide(
        fixed, {"control": arm("control", 1000, 300), "tuned": arm("tuned", 1000, 420)}, {}
    )
    assert early.verdict is None
    done = decide(
        fixed, {"control": arm("control", 1400, 420), "tuned": arm("tuned", 1400, 434)}, {}
    )
    assert done.verdict == "no_difference"
    assert done.results[0].method == "two-proportion z-test"


def test_holm_correction_over_two_treatments() -> None:
    two = definition(
        treatments=[
            ExperimentArm(variant="a", model_name="bot", version=2, serving_name="a", weight=1),
            ExperimentArm(variant="b", model_name="bot", version=3, serving_name="b", weight=1),
        ]
    )
    decision = decide(
        two,
        {
            "control": arm("control", 1000, 300),
            "a": arm("a", 1000, 310),
            "b": arm("b", 1000, 440),
        },
        {},
    )
    assert decision.verdict == "treatment_wins"
    assert decision.winner == "b"
    by_variant = {r.variant: r for r in decision.results}
    assert by_variant["b"].adjusted_p_value >= by_variant["b"].p_value
    assert by_variant["a"].adjusted_p_value == pytest.approx(
        max(by_variant["a"].p_value, by_variant["b"].adjusted_p_value)
    )


def test_a_sequential_test_without_a_cap_ends_after_three_horizons() -> None:
    planned = planned_units_per_arm(definition(baseline=0.3), Summary.of_proportion(0, 0))
    n = 3 * planned
    decision = decide(
        definition(baseline=0.3),
        {"control": arm("control", n, int(0.3 * n)), "tuned": arm("tuned", n, int(0.3 * n) + 5)},
        {},
    )
    assert decision.verdict == "no_difference"
    assert decision.action == "route_to_control"
    assert "without a significant difference in gold-star rate" in decision.summary
