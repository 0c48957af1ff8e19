"""A weighted recommendation across quality, latency and cost, shown beside the statistics."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RecommendationWeights:
    quality: float = 0.6
    latency: float = 0.2
    cost: float = 0.2


@dataclass(frozen=True)
class Candidate:
    name: str
    quality: float
    latency_ms: float
    cost: float = 0.0


def weighted_scores(
    candidates: list[Candidate], weights: RecommendationWeights | None = None
) -> dict[str, float]:
    """Score in [0, 1] per candidate: quality relative to the best, speed and cheapness
    relative to the fastest and cheapest."""
    weights = weights or RecommendationWeights()
    best_quality = max((c.quality for c in candidates), default=0.0)
    fastest = min((c.latency_ms for c in candidates), default=0.0)
    cheapest = min((c.cost for c in candidates), default=0.0)
    scores = {}
    for candidate in candidates:
        quality = candidate.quality / best_quality if best_quality > 0 else 1.0
        speed = fastest / candidate.latency_ms if candidate.latency_ms > 0 else 1.0
        cheapness = cheapest / candidate.cost if candidate.cost > 0 else 1.0
        scores[candidate.name] = (
            weights.quality * quality + weights.latency * speed + weights.cost * cheapness
        ) / (weights.quality + weights.latency + weights.cost)
    return scores


def recommend(candidates: list[Candidate], weights: RecommendationWeights | None = None) -> str:
    """The candidate with the highest weighted score."""
    scores = weighted_scores(candidates, weights)
    return max(scores, key=lambda name: scores[name])


__all__ = ["Candidate", "RecommendationWeights", "recommend", "weighted_scores"]
