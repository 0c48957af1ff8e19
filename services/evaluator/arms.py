"""An arm's state as the decision sees it: guardrail counts and the primary metric's sums."""

from dataclasses import dataclass

from contracts.events.evaluations import ArmStatistics
from services.evaluator.latency import quantile
from services.evaluator.statistics import Summary


@dataclass(frozen=True)
class ArmState:
    variant: str
    serving_name: str
    requests: int
    errors: int
    fallbacks: int
    latency_total_ms: float
    latency_histogram: tuple[int, ...]
    metric: Summary

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.requests if self.requests else 0.0

    @property
    def mean_latency_ms(self) -> float:
        return self.latency_total_ms / self.requests if self.requests else 0.0

    @property
    def p99_latency_ms(self) -> float | None:
        return quantile(list(self.latency_histogram), 0.99)

    def errors_summary(self) -> Summary:
        return Summary.of_proportion(self.requests, self.errors)

    def fallbacks_summary(self) -> Summary:
        return Summary.of_proportion(self.requests, self.fallbacks)

    def statistics(self) -> ArmStatistics:
        return ArmStatistics(
            variant=self.variant,
            serving_name=self.serving_name,
            n=self.metric.n,
            total=self.metric.total,
            total_squares=self.metric.total_squares,
            requests=self.requests,
            error_rate=self.error_rate,
            fallback_rate=self.fallback_rate,
            p99_latency_ms=self.p99_latency_ms,
        )


__all__ = ["ArmState"]
