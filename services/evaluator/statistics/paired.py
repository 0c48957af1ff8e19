"""Paired comparisons of two models on the same prompts: sign test and exact McNemar."""

from dataclasses import dataclass

from scipy import stats

from services.evaluator.statistics.proportions import wilson_interval


@dataclass(frozen=True)
class PairedOutcome:
    """Wins, losses and ties of model B against model A over the same prompts."""

    wins: int
    losses: int
    ties: int
    p_value: float
    win_rate: float
    win_rate_low: float
    win_rate_high: float
    method: str

    @property
    def total(self) -> int:
        return self.wins + self.losses + self.ties


def sign_test(wins: int, losses: int, ties: int = 0, alpha: float = 0.05) -> PairedOutcome:
    """Exact two-sided sign test on the decided pairs; the win rate excludes ties."""
    decided = wins + losses
    p_value = float(stats.binomtest(wins, decided, 0.5).pvalue) if decided else 1.0
    low, high = wilson_interval(wins, decided, alpha)
    return PairedOutcome(
        wins=wins,
        losses=losses,
        ties=ties,
        p_value=p_value,
        win_rate=wins / decided if decided else 0.5,
        win_rate_low=low,
        win_rate_high=high,
        method="exact sign test",
    )


def mcnemar_exact(
    a_correct: list[bool], b_correct: list[bool], alpha: float = 0.05
) -> PairedOutcome:
    """Exact McNemar test: only prompts where exactly one model is right carry information."""
    if len(a_correct) != len(b_correct):
        raise ValueError("both models must be scored on the same prompts")
    b_only = sum(1 for a, b in zip(a_correct, b_correct, strict=True) if b and not a)
    a_only = sum(1 for a, b in zip(a_correct, b_correct, strict=True) if a and not b)
    ties = len(a_correct) - a_only - b_only
    outcome = sign_test(b_only, a_only, ties, alpha)
    return PairedOutcome(**{**outcome.__dict__, "method": "exact McNemar test"})


__all__ = ["PairedOutcome", "mcnemar_exact", "sign_test"]
