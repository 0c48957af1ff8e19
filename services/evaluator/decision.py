"""The experiment policy: from per-arm sums to a verdict, an action and the reasons in words.

Order: a sample-ratio mismatch makes every comparison untrustworthy, so it is checked first;
then guardrails (a treatment that breaks one stops the experiment whatever its quality); then
the primary metric, Holm-corrected over treatments.
"""

from dataclasses import dataclass, field
from typing import Literal

from contracts.events import ExperimentStarted
from contracts.events.evaluations import TreatmentResult, Verdict
from services.evaluator import narration
from services.evaluator.arms import ArmState
from services.evaluator.metrics import KIND_OF_METRIC
from services.evaluator.statistics import (
    Candidate,
    RecommendationWeights,
    SequentialLook,
    Summary,
    combine,
    holm_adjusted,
    look,
    mixture_variance,
    sample_ratio_check,
    two_proportion_z_test,
    units_per_arm_for_means,
    units_per_arm_for_proportions,
    weighted_scores,
    welch_t_test,
)

Action = Literal["promote", "route_to_control", "none"]
SEQUENTIAL_HORIZONS = 3
"""Without ``max_units_per_arm``, a sequential test ends with no difference after this many
fixed-horizon sample sizes (an effect smaller than the MDE is not worth waiting for)."""
Looks = dict[str, SequentialLook]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict | None
    summary: str
    results: list[TreatmentResult] = field(default_factory=list)
    looks: Looks = field(default_factory=dict)
    winner: str | None = None
    action: Action = "none"
    route_to: str | None = None
    reasons: list[str] = field(default_factory=list)
    srm_p_value: float | None = None
    recommendation: str | None = None

    @property
    def concluded(self) -> bool:
        return self.verdict is not None

    @property
    def p_value(self) -> float | None:
        return min((r.adjusted_p_value for r in self.results), default=None)


def decide(definition: ExperimentStarted, arms: dict[str, ArmState], looks: Looks) -> Decision:
    control = arms[definition.control.variant]
    treatments = [arms[t.variant] for t in definition.treatments]
    looks = dict(looks)
    srm = sample_ratio_check(
        [arms[a.variant].requests for a in definition.arms], [a.weight for a in definition.arms]
    )
    enough_traffic = min(a.requests for a in arms.values()) >= definition.stopping.min_units_per_arm
    recommendation = recommend(definition, [control, *treatments])
    results = primary_results(definition, control, treatments, looks)
    if enough_traffic and srm.mismatch:
        reason = narration.sample_ratio_mismatch(definition, srm.observed, srm.p_value)
        return stop(definition, "sample_ratio_mismatch", [reason], results, looks, srm.p_value)
    breaches = guardrail_breaches(definition, control, treatments, looks) if enough_traffic else []
    if breaches:
        return stop(definition, "stopped_by_guardrail", breaches, results, looks, srm.p_value)
    base = Decision(
        verdict=None,
        summary=narration.progress(definition, control, treatments, results),
        results=results,
        looks=looks,
        srm_p_value=srm.p_value,
        recommendation=recommendation,
    )
    if not results:
        return base
    return conclude_on_primary(definition, control, treatments, base)


def conclude_on_primary(
    definition: ExperimentStarted, control: ArmState, treatments: list[ArmState], base: Decision
) -> Decision:
    alpha = definition.alpha
    significant = [r for r in base.results if r.adjusted_p_value <= alpha]
    winners = [r for r in significant if r.difference > 0 and r.ci_low > 0]
    if winners:
        best = max(winners, key=lambda r: r.difference)
        winner_arm = next(t for t in treatments if t.variant == best.variant)
        winner_serving = next(
            a.serving_name for a in definition.treatments if a.variant == best.variant
        )
        promote = definition.stopping.auto_promote
        return Decision(
            verdict="treatment_wins",
            summary=narration.treatment_wins(definition, control, winner_arm, best, promote),
            results=base.results,
            looks=base.looks,
            winner=best.variant,
            action="promote" if promote else "none",
            route_to=winner_serving if promote else None,
            reasons=[narration.result_sentence(definition, control, winner_arm, best)],
            srm_p_value=base.srm_p_value,
            recommendation=base.recommendation,
        )
    losers = [r for r in significant if r.difference < 0 and r.ci_high < 0]
    if len(losers) == len(treatments):
        reasons = [
            narration.result_sentence(definition, control, t, r)
            for t, r in zip(treatments, base.results, strict=True)
        ]
        return stop(definition, "control_wins", reasons, base.results, base.looks, base.srm_p_value)
    if horizon_reached(definition, control, treatments):
        reasons = [narration.no_difference(definition, control, treatments)]
        return stop(
            definition, "no_difference", reasons, base.results, base.looks, base.srm_p_value
        )
    return base


def stop(
    definition: ExperimentStarted,
    verdict: Verdict,
    reasons: list[str],
    results: list[TreatmentResult],
    looks: Looks,
    srm_p_value: float | None,
) -> Decision:
    """End the experiment and send all traffic back to control."""
    return Decision(
        verdict=verdict,
        summary=narration.stopped(definition, verdict, reasons),
        results=results,
        looks=looks,
        winner=definition.control.variant if verdict == "control_wins" else None,
        action="route_to_control",
        route_to=definition.control.serving_name,
        reasons=reasons,
        srm_p_value=srm_p_value,
    )


def guardrail_breaches(
    definition: ExperimentStarted, control: ArmState, treatments: list[ArmState], looks: Looks
) -> list[str]:
    guardrails = definition.guardrails
    breaches = []
    for treatment in treatments:
        for name, allowed, of in (
            ("error rate", guardrails.max_error_rate_increase, ArmState.errors_summary),
            ("fallback rate", guardrails.max_fallback_rate_increase, ArmState.fallbacks_summary),
        ):
            key = f"guardrail:{name}:{treatment.variant}"
            tau_squared = mixture_variance(max(allowed, 0.01))
            current = look(of(control), of(treatment), "proportion", tau_squared, definition.alpha)
            looks[key] = combine(looks.get(key), current)
            if looks[key].ci_low > 0 and looks[key].difference > allowed:
                breaches.append(
                    narration.rate_breach(name, control, treatment, of, allowed, looks[key])
                )
        p99 = treatment.p99_latency_ms
        limit = guardrails.max_p99_latency_ms
        if limit is not None and p99 is not None and p99 > limit:
            breaches.append(narration.latency_breach(treatment, p99, limit))
    return breaches


def primary_results(
    definition: ExperimentStarted, control: ArmState, treatments: list[ArmState], looks: Looks
) -> list[TreatmentResult]:
    """Each treatment against control, or nothing until the design says to look."""
    smallest = min(a.metric.n for a in [control, *treatments])
    if smallest < definition.stopping.min_units_per_arm:
        return []
    if definition.stopping.method == "fixed_horizon":
        if not horizon_reached(definition, control, treatments):
            return []
        return fixed_horizon_results(definition, control, treatments)
    kind = KIND_OF_METRIC[definition.primary_metric]
    tau_squared = mixture_variance(definition.minimum_detectable_effect)
    raw = []
    for treatment in treatments:
        key = f"primary:{treatment.variant}"
        current = look(control.metric, treatment.metric, kind, tau_squared, definition.alpha)  # type: ignore[arg-type]
        looks[key] = combine(looks.get(key), current)
        raw.append((treatment.variant, looks[key]))
    adjusted = holm_adjusted([result.p_value for _, result in raw])
    return [
        TreatmentResult(
            variant=variant,
            difference=result.difference,
            ci_low=result.ci_low,
            ci_high=result.ci_high,
            p_value=result.p_value,
            adjusted_p_value=p,
            method=result.method,
        )
        for (variant, result), p in zip(raw, adjusted, strict=True)
    ]


def fixed_horizon_results(
    definition: ExperimentStarted, control: ArmState, treatments: list[ArmState]
) -> list[TreatmentResult]:
    proportion = KIND_OF_METRIC[definition.primary_metric] == "proportion"
    test = two_proportion_z_test if proportion else welch_t_test
    comparisons = [test(control.metric, t.metric, definition.alpha) for t in treatments]
    adjusted = holm_adjusted([c.p_value for c in comparisons])
    return [
        TreatmentResult(
            variant=t.variant,
            difference=c.difference,
            ci_low=c.ci_low,
            ci_high=c.ci_high,
            p_value=c.p_value,
            adjusted_p_value=p,
            method=c.method,
        )
        for t, c, p in zip(treatments, comparisons, adjusted, strict=True)
    ]


def planned_units_per_arm(definition: ExperimentStarted, control: Summary) -> int:
    """The fixed-horizon sample size per arm, from the baseline (or control so far)."""
    mde = definition.minimum_detectable_effect
    if KIND_OF_METRIC[definition.primary_metric] == "proportion":
        baseline = definition.baseline if definition.baseline is not None else control.mean
        baseline = min(max(baseline, 0.01), 0.99 - mde)
        return units_per_arm_for_proportions(baseline, mde, definition.alpha, definition.power)
    deviation = max(control.standard_deviation, mde / 4)
    return units_per_arm_for_means(deviation, mde, definition.alpha, definition.power)


def horizon_reached(
    definition: ExperimentStarted, control: ArmState, treatments: list[ArmState]
) -> bool:
    smallest = min(a.metric.n for a in [control, *treatments])
    maximum = definition.stopping.max_units_per_arm
    if maximum is not None and smallest >= maximum:
        return True
    planned = planned_units_per_arm(definition, control.metric)
    if definition.stopping.method == "fixed_horizon":
        return smallest >= planned
    return maximum is None and smallest >= SEQUENTIAL_HORIZONS * planned


def recommend(definition: ExperimentStarted, arms: list[ArmState]) -> str | None:
    """The weighted pick across quality, latency and cost (cost is equal until known)."""
    if any(a.metric.n == 0 for a in arms):
        return None
    weights = RecommendationWeights(**definition.weights.model_dump())
    candidates = [Candidate(a.variant, a.metric.mean, a.mean_latency_ms) for a in arms]
    scores = weighted_scores(candidates, weights)
    best = max(scores, key=lambda variant: scores[variant])
    return narration.recommendation(best, scores, weights)


__all__ = ["Decision", "decide", "planned_units_per_arm"]
