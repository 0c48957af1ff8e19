"""From every stored answer to per-model metrics, pairwise comparisons and a sentence."""

from dataclasses import dataclass

import numpy as np

from contracts.api.evaluations import PairwiseResult
from services.evaluator.scoring import corpus_bleu, label_scores
from services.evaluator.statistics import PairedOutcome, mcnemar_exact, sign_test

BINARY_SCORES = {"exact_match", "normalized_match", "substring_match", "json_valid"}


@dataclass(frozen=True)
class Scored:
    """One model's answer to one prompt, as the summary needs it."""

    prompt_index: int
    model: str
    reference: str | None
    response: str | None
    error: str | None
    latency_ms: float
    completion_tokens: int
    prompt_tokens: int
    scores: dict[str, float]


def model_metrics(
    answers: list[Scored], labels: bool, price_per_million: float | None
) -> dict[str, float]:
    metrics: dict[str, float] = {"prompts": float(len(answers))}
    referenced = [a for a in answers if a.reference is not None]
    names = sorted({name for a in referenced for name in a.scores})
    for name in names:
        values = [a.scores.get(name, 0.0) for a in referenced if name in a.scores or a.error]
        if values:
            metrics[name] = float(np.mean(values))
    if referenced:
        metrics["bleu"] = corpus_bleu(
            [a.response or "" for a in referenced], [a.reference or "" for a in referenced]
        )
        if labels:
            metrics.update(
                label_scores(
                    [a.response or "" for a in referenced], [a.reference or "" for a in referenced]
                )
            )
    answered = [a for a in answers if a.error is None]
    metrics["error_rate"] = 1 - len(answered) / len(answers) if answers else 0.0
    if answered:
        latencies = np.array([a.latency_ms for a in answered])
        metrics["latency_p50_ms"] = float(np.percentile(latencies, 50))
        metrics["latency_p95_ms"] = float(np.percentile(latencies, 95))
        seconds = float(latencies.sum()) / 1000
        tokens = sum(a.completion_tokens for a in answered)
        metrics["tokens_per_second"] = tokens / seconds if seconds > 0 else 0.0
        if price_per_million is not None:
            used = tokens + sum(a.prompt_tokens for a in answered)
            metrics["cost_per_1m_tokens"] = price_per_million
            metrics["cost"] = used * price_per_million / 1_000_000
    return metrics


def paired_outcome(a: list[Scored], b: list[Scored], metric: str) -> PairedOutcome | None:
    """B against A over prompts both have a reference for."""
    by_index = {x.prompt_index: x for x in a}
    pairs = [
        (by_index[y.prompt_index].scores.get(metric, 0.0), y.scores.get(metric, 0.0))
        for y in b
        if y.reference is not None and y.prompt_index in by_index
    ]
    if not pairs:
        return None
    if metric in BINARY_SCORES:
        return mcnemar_exact([x >= 0.5 for x, _ in pairs], [y >= 0.5 for _, y in pairs])
    wins = sum(1 for x, y in pairs if y > x)
    losses = sum(1 for x, y in pairs if y < x)
    return sign_test(wins, losses, len(pairs) - wins - losses)


def pairwise_result(model_a: str, model_b: str, metric: str, o: PairedOutcome) -> PairwiseResult:
    return PairwiseResult(
        model_a=model_a,
        model_b=model_b,
        metric=metric,
        wins=o.wins,
        losses=o.losses,
        ties=o.ties,
        win_rate=o.win_rate,
        win_rate_low=o.win_rate_low,
        win_rate_high=o.win_rate_high,
        p_value=o.p_value,
        method=o.method,
    )


def comparisons(
    models: list[str], answers: dict[str, list[Scored]], metric: str
) -> list[PairwiseResult]:
    """Every later model against every earlier one (the first is usually the baseline)."""
    results = []
    for i, model_a in enumerate(models):
        for model_b in models[i + 1 :]:
            outcome = paired_outcome(answers[model_a], answers[model_b], metric)
            if outcome is not None:
                results.append(pairwise_result(model_a, model_b, metric, outcome))
    return results


def sentence(
    metrics: dict[str, dict[str, float]], results: list[PairwiseResult], metric: str
) -> str:
    parts = [
        f"{model}: {metric} {values.get(metric, 0.0):.3f}, "
        f"p50 {values.get('latency_p50_ms', 0):.0f} ms"
        for model, values in metrics.items()
    ]
    for r in results:
        verdict = (
            "better than"
            if r.wins > r.losses
            else "worse than"
            if r.wins < r.losses
            else "tied with"
        )
        significance = "significant" if r.p_value < 0.05 else "not significant"
        parts.append(
            f"{r.model_b} is {verdict} {r.model_a} on {r.metric} ({r.wins} wins, "
            f"{r.losses} losses, {r.ties} ties; p = {r.p_value:.3g} by {r.method}, {significance})"
        )
    return "; ".join(parts) + "."


__all__ = ["BINARY_SCORES", "Scored", "comparisons", "model_metrics", "pairwise_result", "sentence"]
