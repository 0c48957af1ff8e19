"""Welch's t-test of two means from sufficient statistics."""

import math

from scipy import stats

from services.evaluator.statistics.summaries import Comparison, Summary


def welch_degrees_of_freedom(control: Summary, treatment: Summary) -> float:
    """Welch-Satterthwaite degrees of freedom."""
    a = control.variance / control.n
    b = treatment.variance / treatment.n
    denominator = a * a / (control.n - 1) + b * b / (treatment.n - 1)
    return (a + b) ** 2 / denominator if denominator > 0 else float(control.n + treatment.n - 2)


def welch_t_test(control: Summary, treatment: Summary, alpha: float = 0.05) -> Comparison:
    """Two-sided Welch's t-test of mean_treatment = mean_control with its interval."""
    if control.n < 2 or treatment.n < 2:
        raise ValueError("Welch's t-test needs at least two observations in each arm")
    difference = treatment.mean - control.mean
    se = math.sqrt(control.variance / control.n + treatment.variance / treatment.n)
    df = welch_degrees_of_freedom(control, treatment)
    if se == 0:
        t, p_value = 0.0, 1.0 if difference == 0 else 0.0
    else:
        t = difference / se
        p_value = float(2 * stats.t.sf(abs(t), df))
    margin = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return Comparison(
        difference=difference,
        ci_low=difference - margin,
        ci_high=difference + margin,
        p_value=p_value,
        statistic=t,
        method="Welch's t-test",
    )


__all__ = ["welch_degrees_of_freedom", "welch_t_test"]
