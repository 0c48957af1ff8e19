"""Running statistics of one split, in constant memory whatever the dataset size."""

from collections import Counter
from dataclasses import dataclass, field

from contracts.api.datasets import LengthStats, RatingHistogram, SplitStats


@dataclass
class RunningLength:
    count: int = 0
    total: int = 0
    low: int | None = None
    high: int = 0

    def add(self, value: int) -> None:
        self.count += 1
        self.total += value
        if self.low is None or value < self.low:
            self.low = value
        if value > self.high:
            self.high = value

    def merge(self, other: "RunningLength") -> None:
        """Add the values ``other`` has seen."""
        self.count += other.count
        self.total += other.total
        if other.low is not None and (self.low is None or other.low < self.low):
            self.low = other.low
        self.high = max(self.high, other.high)

    def summary(self) -> LengthStats:
        mean = self.total / self.count if self.count else 0.0
        return LengthStats(min=self.low or 0, max=self.high, mean=round(mean, 2))


@dataclass
class SplitAccumulator:
    tokens: RunningLength = field(default_factory=RunningLength)
    messages: RunningLength = field(default_factory=RunningLength)
    response_chars: RunningLength = field(default_factory=RunningLength)
    domains: Counter[str] = field(default_factory=Counter)
    task_types: Counter[str] = field(default_factory=Counter)
    ratings: Counter[str] = field(default_factory=Counter)
    gold_stars: int = 0

    @property
    def examples(self) -> int:
        return self.tokens.count

    def add(
        self,
        tokens: int,
        messages: int,
        response_chars: int,
        domain: str | None,
        task_type: str | None,
        rating: int | None,
        gold_star: bool,
    ) -> None:
        self.tokens.add(tokens)
        self.messages.add(messages)
        self.response_chars.add(response_chars)
        self.domains[domain or "unknown"] += 1
        self.task_types[task_type or "unknown"] += 1
        self.ratings[str(rating) if rating is not None else "unrated"] += 1
        self.gold_stars += int(gold_star)

    def merge(self, other: "SplitAccumulator") -> None:
        """Add the examples ``other`` has seen (the order examples are added in does not
        change any figure)."""
        self.tokens.merge(other.tokens)
        self.messages.merge(other.messages)
        self.response_chars.merge(other.response_chars)
        self.domains.update(other.domains)
        self.task_types.update(other.task_types)
        self.ratings.update(other.ratings)
        self.gold_stars += other.gold_stars

    def summary(self, sha256: str | None, uri: str | None, size: int) -> SplitStats:
        counts = {key: value for key, value in sorted(self.ratings.items()) if key != "unrated"}
        return SplitStats(
            examples=self.examples,
            tokens=self.tokens.total,
            tokens_per_example=self.tokens.summary(),
            messages_per_example=self.messages.summary(),
            response_chars=self.response_chars.summary(),
            domains=dict(self.domains.most_common()),
            task_types=dict(self.task_types.most_common()),
            ratings=RatingHistogram(
                unrated=self.ratings["unrated"], counts=counts, gold_star=self.gold_stars
            ),
            artifact_sha256=sha256,
            artifact_uri=uri,
            bytes=size,
        )


__all__ = ["RunningLength", "SplitAccumulator"]
