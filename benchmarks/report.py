"""A benchmark result: our figure, the peer's, and the ratio."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Comparison:
    name: str
    metric: str
    ours_label: str
    ours: float
    peer_label: str
    peer: float
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        """How many times better (>1) or worse (<1) than the peer."""
        return self.ours / self.peer if self.higher_is_better else self.peer / self.ours

    def table(self) -> str:
        return (
            f"{self.name}: {self.metric}\n"
            f"  {self.ours_label:<42} {self.ours:>12,.1f}\n"
            f"  {self.peer_label:<42} {self.peer:>12,.1f}\n"
            f"  ratio (ours / peer, >1 is better)          {self.ratio:>12.2f}"
        )

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


__all__ = ["Comparison"]
