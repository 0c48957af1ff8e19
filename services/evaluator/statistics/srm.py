"""Sample-ratio mismatch: are the arms' unit counts what the traffic weights promise?"""

from dataclasses import dataclass

from scipy import stats

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SampleRatioCheck:
    statistic: float
    p_value: float
    mismatch: bool
    expected: tuple[float, ...]
    observed: tuple[int, ...]


def sample_ratio_check(
    observed: list[int], weights: list[float], threshold: float = SRM_THRESHOLD
) -> SampleRatioCheck:
    """Pearson's χ² goodness of fit of unit counts against the configured weights."""
    if len(observed) != len(weights) or len(observed) < 2:
        raise ValueError("give one count and one weight per arm, for at least two arms")
    total = sum(observed)
    weight_sum = sum(weights)
    expected = tuple(total * w / weight_sum for w in weights)
    if total == 0:
        return SampleRatioCheck(0.0, 1.0, False, expected, tuple(observed))
    result = stats.chisquare(observed, expected)
    p_value = float(result.pvalue)
    return SampleRatioCheck(
        statistic=float(result.statistic),
        p_value=p_value,
        mismatch=p_value < threshold,
        expected=expected,
        observed=tuple(observed),
    )


__all__ = ["SRM_THRESHOLD", "SampleRatioCheck", "sample_ratio_check"]
