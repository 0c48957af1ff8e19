"""Variant assignment: sticky, deterministic, weight-accurate, and ramp-safe."""

import pytest

from services.router.assignment import BUCKETS, Variant, assign, bucket_of

pytestmark = pytest.mark.unit


def arms(treatment_weight: float, second: float | None = None) -> list[Variant]:
    variants = [
        Variant("control", "m@1-aaaaaaaa", 1 - treatment_weight - (second or 0), True),
        Variant("treatment", "m@2-bbbbbbbb", treatment_weight, False),
    ]
    if second is not None:
        variants.append(Variant("second", "m@3-cccccccc", second, False))
    return variants


def test_the_same_unit_always_gets_the_same_variant() -> None:
    variants = arms(0.5)
    first = [assign("salt", f"user-{i}", variants)[0].name for i in range(1000)]
    again = [assign("salt", f"user-{i}", variants)[0].name for i in range(1000)]
    assert first == again


def test_buckets_cover_the_range_and_depend_on_the_salt() -> None:
    buckets = {bucket_of("salt", f"u{i}") for i in range(20_000)}
    assert min(buckets) >= 0
    assert max(buckets) < BUCKETS
    assert bucket_of("a", "u1") != bucket_of("b", "u1") or bucket_of("a", "u2") != bucket_of(
        "b", "u2"
    )


@pytest.mark.parametrize("weight", [0.1, 0.25, 0.5])
def test_split_matches_the_weights_at_100k_units(weight: float) -> None:
    variants = arms(weight)
    treated = sum(
        assign("exp-1", f"unit-{i}", variants)[0].name == "treatment" for i in range(100_000)
    )
    assert abs(treated / 100_000 - weight) < 0.005


def test_ramping_up_never_moves_a_treated_unit_out() -> None:
    before = {f"u{i}": assign("exp", f"u{i}", arms(0.1))[0].name for i in range(20_000)}
    after = {f"u{i}": assign("exp", f"u{i}", arms(0.4))[0].name for i in range(20_000)}
    treated_before = {u for u, v in before.items() if v == "treatment"}
    assert treated_before
    assert all(after[u] == "treatment" for u in treated_before)


def test_ramping_one_treatment_leaves_the_other_alone() -> None:
    before = {f"u{i}": assign("exp", f"u{i}", arms(0.1, 0.2))[0].name for i in range(20_000)}
    after = {f"u{i}": assign("exp", f"u{i}", arms(0.3, 0.2))[0].name for i in range(20_000)}
    assert {u for u, v in before.items() if v == "second"} == {
        u for u, v in after.items() if v == "second"
    }
