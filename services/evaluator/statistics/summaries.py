"""Sufficient statistics of one arm: n, Σx and Σx², enough for every test in this package."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """``n`` observations of a metric, their sum and the sum of their squares.

    A proportion is the special case where every observation is 0 or 1 (then Σx² = Σx).
    """

    n: int
    total: float
    total_squares: float

    @classmethod
    def of_proportion(cls, n: int, successes: float) -> "Summary":
        return cls(n=n, total=successes, total_squares=successes)

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The unbiased sample variance (0 with fewer than two observations)."""
        if self.n < 2:
            return 0.0
        spread = self.total_squares - self.total * self.total / self.n
        return max(spread, 0.0) / (self.n - 1)

    @property
    def standard_deviation(self) -> float:
        return math.sqrt(self.variance)

    def plus(self, other: "Summary") -> "Summary":
        return Summary(
            n=self.n + other.n,
            total=self.total + other.total,
            total_squares=self.total_squares + other.total_squares,
        )


@dataclass(frozen=True)
class Comparison:
    """A test of treatment against control: the difference (treatment minus control), its
    interval and a p-value."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    method: str


__all__ = ["Comparison", "Summary"]
