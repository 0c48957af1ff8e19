"""The offline decision: is the candidate not worse than the serving version?

Not worse means ``candidate >= serving - margin`` on the policy's metric, measured by the
evaluator on the same prompts for both. An evaluation where either model answered nothing
(every request failed) decides nothing: the run fails and says so.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    not_worse: bool
    candidate: float | None
    serving: float | None
    words: str
    problem: str | None = None


def _score(value: float) -> str:
    return f"{value:.3f}"


def compare(
    candidate_metrics: dict[str, float],
    serving_metrics: dict[str, float],
    metric: str,
    margin: float,
    candidate_name: str,
    serving_name: str,
) -> Outcome:
    for name, metrics in ((candidate_name, candidate_metrics), (serving_name, serving_metrics)):
        if metrics.get("error_rate", 0.0) >= 1.0:
            words = (
                f"the evaluation could not get a single answer from {name}; check that the "
                "router serves it, then start a new run"
            )
            return Outcome(False, None, None, words, problem="no_answers")
        if metric not in metrics:
            words = (
                f"the evaluation reported no {metric} for {name} (do the evaluation rows "
                "have reference answers?)"
            )
            return Outcome(False, None, None, words, problem="no_metric")
    candidate, serving = candidate_metrics[metric], serving_metrics[metric]
    prompts = int(candidate_metrics.get("prompts", 0))
    difference = candidate - serving
    bar = max(0.0, serving - margin)  # every metric the evaluator reports is within [0, 1]
    not_worse = candidate >= bar - 1e-12
    verdict = "not worse" if not_worse else "worse"
    within = margin > 0 and not_worse and difference < 0
    margin_words = f" within the {margin:g} margin" if within else ""
    words = (
        f"{candidate_name} scored {_score(candidate)} {metric} against {_score(serving)} for "
        f"the serving {serving_name} on {prompts} prompt{'s' if prompts != 1 else ''} "
        f"({difference:+.3f}; not worse needs at least {_score(bar)}): {verdict}{margin_words}"
    )
    return Outcome(not_worse, candidate, serving, words)


__all__ = ["Outcome", "compare"]
