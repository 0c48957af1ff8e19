"""Always-valid inference: peeking does not inflate false positives, unlike repeated z-tests."""

import numpy as np
import pytest

from services.evaluator.statistics import (
    Summary,
    combine,
    look,
    mixture_variance,
    two_proportion_z_test,
)

pytestmark = pytest.mark.unit

EXPERIMENTS = 2000
PEEK_EVERY = 10
UNITS_PER_ARM = 500
ALPHA = 0.05


def peeking_false_positive_rates(seed: int) -> tuple[float, float]:
    """A/A experiments on a 30 % proportion, looked at after every 10 units per arm."""
    rng = np.random.default_rng(seed)
    control = np.cumsum(rng.random((EXPERIMENTS, UNITS_PER_ARM)) < 0.3, axis=1)
    treatment = np.cumsum(rng.random((EXPERIMENTS, UNITS_PER_ARM)) < 0.3, axis=1)
    tau_squared = mixture_variance(0.05)
    sequential_rejections = naive_rejections = 0
    for experiment in range(EXPERIMENTS):
        sequential = naive = False
        running = None
        for n in range(PEEK_EVERY, UNITS_PER_ARM + 1, PEEK_EVERY):
            a = Summary.of_proportion(n, float(control[experiment, n - 1]))
            b = Summary.of_proportion(n, float(treatment[experiment, n - 1]))
            running = combine(running, look(a, b, "proportion", tau_squared, ALPHA))
            sequential = sequential or running.p_value <= ALPHA
            if not naive and 0 < a.total + b.total < 2 * n:
                naive = two_proportion_z_test(a, b).p_value <= ALPHA
        sequential_rejections += sequential
        naive_rejections += naive
    return sequential_rejections / EXPERIMENTS, naive_rejections / EXPERIMENTS


def test_peeking_after_every_ten_units_keeps_the_sequential_test_at_alpha() -> None:
    sequential, naive = peeking_false_positive_rates(seed=2024)
    assert sequential <= ALPHA
    assert naive > 0.20


def test_a_real_effect_is_found_and_the_interval_covers_it() -> None:
    rng = np.random.default_rng(3)
    control = Summary.of_proportion(4000, float((rng.random(4000) < 0.30).sum()))
    treatment = Summary.of_proportion(4000, float((rng.random(4000) < 0.36).sum()))
    result = look(control, treatment, "proportion", mixture_variance(0.05))
    assert result.p_value < ALPHA
    assert result.ci_low < 0.06 < result.ci_high
    assert result.ci_low > 0


def test_running_intervals_only_shrink_and_p_values_only_fall() -> None:
    first = look(Summary(50, 150, 500), Summary(50, 160, 560), "mean", mixture_variance(0.3))
    second = look(Summary(60, 180, 600), Summary(60, 170, 520), "mean", mixture_variance(0.3))
    both = combine(first, second)
    assert both.p_value == min(first.p_value, second.p_value)
    assert both.ci_low == max(first.ci_low, second.ci_low)
    assert both.ci_high == min(first.ci_high, second.ci_high)


def test_too_few_units_say_nothing() -> None:
    result = look(Summary(1, 1, 1), Summary(5, 3, 3), "proportion", 0.01)
    assert result.p_value == 1.0


def test_peeking_at_ratings_keeps_the_mean_test_at_alpha() -> None:
    rng = np.random.default_rng(99)
    runs, units = 400, 300
    ratings = rng.integers(1, 6, size=(2, runs, units)).astype(float)
    sums, squares = np.cumsum(ratings, axis=2), np.cumsum(ratings**2, axis=2)
    rejections = 0
    for run in range(runs):
        running = None
        for n in range(PEEK_EVERY, units + 1, PEEK_EVERY):
            a = Summary(n, float(sums[0, run, n - 1]), float(squares[0, run, n - 1]))
            b = Summary(n, float(sums[1, run, n - 1]), float(squares[1, run, n - 1]))
            running = combine(running, look(a, b, "mean", mixture_variance(0.3), ALPHA))
        assert running is not None
        rejections += running.p_value <= ALPHA
    assert rejections / runs <= ALPHA
