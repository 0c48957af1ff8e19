"""Sample sizes of fixed-horizon designs: units per arm for a given effect, alpha and power."""

import math

from scipy import stats


def units_per_arm_for_proportions(
    baseline: float, minimum_detectable_effect: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Units per arm for a two-sided two-proportion z-test to detect an absolute lift."""
    if not 0 < baseline < 1 or not 0 < baseline + minimum_detectable_effect < 1:
        raise ValueError("the baseline and baseline + effect must both lie strictly in (0, 1)")
    if minimum_detectable_effect == 0:
        raise ValueError("the minimum detectable effect must not be zero")
    treated = baseline + minimum_detectable_effect
    average = (baseline + treated) / 2
    z_alpha = float(stats.norm.ppf(1 - alpha / 2))
    z_beta = float(stats.norm.ppf(power))
    spread = z_alpha * math.sqrt(2 * average * (1 - average)) + z_beta * math.sqrt(
        baseline * (1 - baseline) + treated * (1 - treated)
    )
    return math.ceil((spread / minimum_detectable_effect) ** 2)


def units_per_arm_for_means(
    standard_deviation: float,
    minimum_detectable_effect: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Units per arm for a two-sided two-sample test of means with a common deviation."""
    if standard_deviation <= 0 or minimum_detectable_effect == 0:
        raise ValueError("the deviation must be positive and the effect must not be zero")
    z_alpha = float(stats.norm.ppf(1 - alpha / 2))
    z_beta = float(stats.norm.ppf(power))
    ratio = standard_deviation / minimum_detectable_effect
    return math.ceil(2 * (z_alpha + z_beta) ** 2 * ratio * ratio)


__all__ = ["units_per_arm_for_means", "units_per_arm_for_proportions"]
