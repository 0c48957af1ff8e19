"""Fixed-horizon tests against scipy on raw data and textbook values."""

import numpy as np
import pytest
from scipy import stats

from services.evaluator.statistics import (
    Summary,
    chi_squared_test,
    holm_adjusted,
    two_proportion_z_test,
    units_per_arm_for_means,
    units_per_arm_for_proportions,
    welch_t_test,
    wilson_interval,
)

pytestmark = pytest.mark.unit


def summary_of(values: np.ndarray) -> Summary:
    return Summary(n=len(values), total=float(values.sum()), total_squares=float((values**2).sum()))


def test_welch_from_sufficient_statistics_matches_scipy_on_raw_data() -> None:
    rng = np.random.default_rng(7)
    control = rng.normal(3.0, 1.0, 200)
    treatment = rng.normal(3.3, 1.6, 150)
    result = welch_t_test(summary_of(control), summary_of(treatment))
    expected = stats.ttest_ind(treatment, control, equal_var=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    interval = expected.confidence_interval(0.95)
    assert result.ci_low == pytest.approx(interval.low, rel=1e-9)
    assert result.ci_high == pytest.approx(interval.high, rel=1e-9)


def test_two_proportion_z_squared_is_the_chi_squared_statistic() -> None:
    control = Summary.of_proportion(1000, 100)
    treatment = Summary.of_proportion(1000, 130)
    z = two_proportion_z_test(control, treatment)
    chi2, p_value = chi_squared_test(control, treatment)
    assert z.statistic**2 == pytest.approx(chi2)
    assert z.p_value == pytest.approx(p_value)
    assert z.statistic == pytest.approx(2.1027, abs=1e-4)
    assert z.difference == pytest.approx(0.03)
    assert z.ci_low < 0.03 < z.ci_high


def test_wilson_interval_textbook_value() -> None:
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_sample_sizes_match_the_normal_approximation() -> None:
    assert units_per_arm_for_proportions(0.5, 0.1) == 388
    assert units_per_arm_for_means(1.0, 0.5) == 63
    with pytest.raises(ValueError, match="strictly in"):
        units_per_arm_for_proportions(0.95, 0.1)


def test_holm_step_down_keeps_the_order_given() -> None:
    assert holm_adjusted([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjusted([0.5]) == [0.5]


def test_summary_variance_from_sums() -> None:
    values = np.array([1.0, 2.0, 4.0, 5.0])
    assert summary_of(values).variance == pytest.approx(values.var(ddof=1))
    assert Summary(1, 3.0, 9.0).variance == 0.0
