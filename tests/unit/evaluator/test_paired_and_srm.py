"""Paired offline comparisons, sample-ratio mismatch and the weighted recommendation."""

import pytest
from scipy import stats

from services.evaluator.statistics import (
    Candidate,
    RecommendationWeights,
    mcnemar_exact,
    recommend,
    sample_ratio_check,
    sign_test,
)

pytestmark = pytest.mark.unit


def test_exact_mcnemar_counts_only_discordant_pairs() -> None:
    a = [True] * 20 + [False] * 10 + [True] * 2
    b = [True] * 20 + [True] * 10 + [False] * 2
    outcome = mcnemar_exact(a, b)
    assert (outcome.wins, outcome.losses, outcome.ties) == (10, 2, 20)
    assert outcome.p_value == pytest.approx(stats.binomtest(10, 12).pvalue)
    assert outcome.p_value == pytest.approx(0.0386, abs=1e-4)
    assert outcome.win_rate_low < 10 / 12 < outcome.win_rate_high
    assert outcome.method == "exact McNemar test"


def test_sign_test_without_decided_pairs_is_uninformative() -> None:
    assert sign_test(0, 0, ties=5).p_value == 1.0


def test_srm_flags_a_51_49_split_at_100k_units() -> None:
    check = sample_ratio_check([51_000, 49_000], [0.5, 0.5])
    assert check.mismatch
    assert check.p_value < 1e-6
    assert not sample_ratio_check([50_100, 49_900], [0.5, 0.5]).mismatch
    assert not sample_ratio_check([20_000, 80_000], [0.2, 0.8]).mismatch


def test_default_recommendation_weights_quality_sixty_percent() -> None:
    candidates = [
        Candidate("base", quality=0.70, latency_ms=100, cost=1.0),
        Candidate("tuned", quality=0.80, latency_ms=120, cost=1.0),
    ]
    assert recommend(candidates) == "tuned"
    latency_first = RecommendationWeights(quality=0.1, latency=0.8, cost=0.1)
    assert recommend(candidates, latency_first) == "base"
