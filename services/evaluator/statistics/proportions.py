"""Fixed-horizon tests of two proportions: the two-proportion z-test, chi-squared and Wilson."""

import math
from statistics import NormalDist

from scipy import stats

from services.evaluator.statistics.summaries import Comparison, Summary


def two_proportion_z_test(control: Summary, treatment: Summary, alpha: float = 0.05) -> Comparison:
    """Pooled z-test of p_treatment = p_control, with an unpooled (Wald) interval."""
    p_c, p_t = control.mean, treatment.mean
    difference = p_t - p_c
    pooled = (control.total + treatment.total) / (control.n + treatment.n)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n))
    z = difference / pooled_se if pooled_se > 0 else 0.0
    p_value = math.erfc(abs(z) / math.sqrt(2))
    se = math.sqrt(p_c * (1 - p_c) / control.n + p_t * (1 - p_t) / treatment.n)
    margin = NormalDist().inv_cdf(1 - alpha / 2) * se
    return Comparison(
        difference=difference,
        ci_low=difference - margin,
        ci_high=difference + margin,
        p_value=p_value,
        statistic=z,
        method="two-proportion z-test",
    )


def chi_squared_test(control: Summary, treatment: Summary) -> tuple[float, float]:
    """Pearson's chi-squared on the 2x2 table (no continuity correction): (χ², p-value)."""
    table = [
        [control.total, control.n - control.total],
        [treatment.total, treatment.n - treatment.total],
    ]
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def wilson_interval(successes: float, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) with no observations."""
    if n == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(1 - alpha / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


__all__ = ["chi_squared_test", "two_proportion_z_test", "wilson_interval"]
