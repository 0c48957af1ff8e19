"""Always-valid inference: the mixture sequential probability ratio test (mSPRT).

Johari, Pekelis and Walsh ("Always valid inference", 2017; "Peeking at A/B tests", KDD 2017):
with a normal mixture N(θ0, τ²) over the effect θ and V the variance of the estimated difference,
the mixture likelihood ratio after any number of observations is

    Λ = sqrt(V / (V + τ²)) · exp( τ² (θ̂ - θ0)² / (2 V (V + τ²)) ).

Under the null, Λ is a martingale, so P(Λ ever reaches 1/alpha) ≤ alpha: the p-value min(1, 1/Λ),
taken as a running minimum over every look, stays valid however often anyone looks, and the
set of θ0 with Λ(θ0) < 1/alpha (intersected over looks) is a confidence sequence.
"""

import math
from dataclasses import dataclass, replace
from typing import Literal

from services.evaluator.statistics.summaries import Summary

MetricKind = Literal["proportion", "mean"]


@dataclass(frozen=True)
class SequentialLook:
    """One look: the difference (treatment - control), its always-valid interval and p-value."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    likelihood_ratio: float
    variance: float
    method: str = "mSPRT (normal mixture)"


def difference_variance(control: Summary, treatment: Summary, kind: MetricKind) -> float:
    """Variance of the estimated difference of the two arms' means (unpooled, plug-in)."""
    if kind == "proportion":
        return _proportion_variance(control) / control.n + _proportion_variance(treatment) / (
            treatment.n
        )
    return control.variance / control.n + treatment.variance / treatment.n


def null_variance(control: Summary, treatment: Summary, kind: MetricKind) -> float:
    """Variance of the difference if both arms were equal (pooled for proportions)."""
    if kind == "proportion":
        pooled = Summary.of_proportion(control.n + treatment.n, control.total + treatment.total)
        return _proportion_variance(pooled) * (1 / control.n + 1 / treatment.n)
    return difference_variance(control, treatment, kind)


def _proportion_variance(arm: Summary) -> float:
    """p(1 - p) with half a success and half a failure added, so it is never zero."""
    p = min(max((arm.total + 0.5) / (arm.n + 1), 0.0), 1.0)
    return p * (1 - p)


def log_likelihood_ratio(difference: float, variance: float, tau_squared: float) -> float:
    """log Λ of the normal-mixture SPRT for an observed difference from the null value."""
    total = variance + tau_squared
    return 0.5 * math.log(variance / total) + tau_squared * difference * difference / (
        2 * variance * total
    )


def half_width(variance: float, tau_squared: float, alpha: float) -> float:
    """Half-width of the always-valid interval at this look."""
    total = variance + tau_squared
    return math.sqrt(
        2
        * variance
        * total
        / tau_squared
        * (math.log(1 / alpha) + 0.5 * math.log(total / variance))
    )


def look(
    control: Summary,
    treatment: Summary,
    kind: MetricKind,
    tau_squared: float,
    alpha: float = 0.05,
) -> SequentialLook:
    """The mSPRT at this moment (not yet combined with earlier looks: see :func:`combine`)."""
    if control.n < 2 or treatment.n < 2:
        return SequentialLook(0.0, -math.inf, math.inf, 1.0, 1.0, math.inf)
    difference = treatment.mean - control.mean
    test_variance = max(null_variance(control, treatment, kind), 1e-12)
    log_ratio = log_likelihood_ratio(difference, test_variance, tau_squared)
    p_value = math.exp(-log_ratio) if log_ratio > 0 else 1.0
    variance = max(difference_variance(control, treatment, kind), 1e-12)
    margin = half_width(variance, tau_squared, alpha)
    return SequentialLook(
        difference=difference,
        ci_low=difference - margin,
        ci_high=difference + margin,
        p_value=min(1.0, p_value),
        likelihood_ratio=math.exp(min(log_ratio, 700.0)),
        variance=variance,
    )


def combine(previous: SequentialLook | None, current: SequentialLook) -> SequentialLook:
    """Running minimum of the p-value and running intersection of the intervals."""
    if previous is None:
        return current
    return replace(
        current,
        p_value=min(previous.p_value, current.p_value),
        ci_low=max(previous.ci_low, current.ci_low),
        ci_high=min(previous.ci_high, current.ci_high),
    )


def mixture_variance(minimum_detectable_effect: float, scale: float = 1.0) -> float:
    """τ² for an experiment designed to detect ``minimum_detectable_effect`` (absolute)."""
    return (scale * minimum_detectable_effect) ** 2


__all__ = [
    "MetricKind",
    "SequentialLook",
    "combine",
    "difference_variance",
    "half_width",
    "log_likelihood_ratio",
    "look",
    "mixture_variance",
    "null_variance",
]
