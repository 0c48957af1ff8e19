"""Every decision explained in words a product owner can act on."""

from collections.abc import Callable

from contracts.events import ExperimentStarted
from contracts.events.evaluations import TreatmentResult, Verdict
from services.evaluator.arms import ArmState
from services.evaluator.metrics import KIND_OF_METRIC, LABEL_OF_METRIC
from services.evaluator.statistics import RecommendationWeights, SequentialLook, Summary


def value(definition: ExperimentStarted, amount: float) -> str:
    if KIND_OF_METRIC[definition.primary_metric] == "proportion":
        return f"{100 * amount:.1f}%"
    return f"{amount:.2f}"


def difference(definition: ExperimentStarted, amount: float) -> str:
    if KIND_OF_METRIC[definition.primary_metric] == "proportion":
        return f"{100 * amount:+.1f} points"
    return f"{amount:+.2f}"


def result_sentence(
    definition: ExperimentStarted, control: ArmState, treatment: ArmState, result: TreatmentResult
) -> str:
    label = LABEL_OF_METRIC[definition.primary_metric]
    confidence = round(100 * (1 - definition.alpha))
    return (
        f"{label} of {treatment.variant!r} is {value(definition, treatment.metric.mean)} against "
        f"{value(definition, control.metric.mean)} for {control.variant!r} "
        f"({difference(definition, result.difference)}, {confidence}% interval "
        f"{difference(definition, result.ci_low)} to {difference(definition, result.ci_high)}, "
        f"p = {result.adjusted_p_value:.4g} by {result.method}, "
        f"n = {treatment.metric.n} vs {control.metric.n})"
    )


def progress(
    definition: ExperimentStarted,
    control: ArmState,
    treatments: list[ArmState],
    results: list[TreatmentResult],
) -> str:
    if not results:
        counts = ", ".join(f"{a.variant} {a.metric.n}" for a in [control, *treatments])
        return (
            f"Collecting data ({counts} units of {LABEL_OF_METRIC[definition.primary_metric]}); "
            "no comparison is made until every arm has enough units."
        )
    sentences = [
        result_sentence(definition, control, t, r) for t, r in zip(treatments, results, strict=True)
    ]
    return "Running: " + "; ".join(sentences) + ". Not yet significant."


def treatment_wins(
    definition: ExperimentStarted,
    control: ArmState,
    winner: ArmState,
    result: TreatmentResult,
    promote: bool,
) -> str:
    arm = next(a for a in definition.treatments if a.variant == winner.variant)
    then = (
        f"Promoting {arm.model_name} version {arm.version} to {definition.stopping.alias!r}."
        if promote
        else "Automatic promotion is off: deploy it when you are ready."
    )
    return (
        f"{winner.variant!r} ({winner.serving_name}) wins: "
        f"{result_sentence(definition, control, winner, result)}. Guardrails are healthy. {then}"
    )


def no_difference(
    definition: ExperimentStarted, control: ArmState, treatments: list[ArmState]
) -> str:
    return (
        f"every arm reached its planned size ({min(a.metric.n for a in treatments)} units) "
        f"without a significant difference in {LABEL_OF_METRIC[definition.primary_metric]}"
    )


STOP_HEADLINES: dict[str, str] = {
    "control_wins": "The treatment is worse than control",
    "stopped_by_guardrail": "Stopped: a guardrail was breached",
    "sample_ratio_mismatch": "Stopped: the traffic split is not what was configured",
    "no_difference": "No difference",
}


def stopped(definition: ExperimentStarted, verdict: Verdict, reasons: list[str]) -> str:
    return (
        f"{STOP_HEADLINES[verdict]}: {'; '.join(reasons)}. All traffic goes back to control "
        f"({definition.control.serving_name})."
    )


def sample_ratio_mismatch(
    definition: ExperimentStarted, observed: tuple[int, ...], p_value: float
) -> str:
    total = sum(observed) or 1
    shares = ", ".join(
        f"{arm.variant} {100 * count / total:.1f}% (configured weight {arm.weight:g})"
        for arm, count in zip(definition.arms, observed, strict=True)
    )
    return (
        f"the arms received {shares}, a sample-ratio mismatch (chi-squared p = {p_value:.2g}); "
        "check the assignment and the event pipeline before trusting any comparison"
    )


def rate_breach(
    name: str,
    control: ArmState,
    treatment: ArmState,
    of: Callable[[ArmState], Summary],
    allowed: float,
    result: SequentialLook,
) -> str:
    return (
        f"{name} of {treatment.variant!r} is {100 * of(treatment).mean:.1f}% against "
        f"{100 * of(control).mean:.1f}% for control, more than the allowed "
        f"{100 * allowed:.1f} points higher (always-valid interval of the increase "
        f"{100 * result.ci_low:.1f} to {100 * result.ci_high:.1f} points)"
    )


def latency_breach(treatment: ArmState, p99: float, limit: float) -> str:
    return (
        f"p99 latency of {treatment.variant!r} is about {p99:.0f} ms, above the {limit:g} ms limit"
    )


def recommendation(best: str, scores: dict[str, float], weights: RecommendationWeights) -> str:
    listed = ", ".join(f"{variant} {score:.3f}" for variant, score in scores.items())
    return (
        f"{best} by weighted score ({weights.quality:.0%} quality, {weights.latency:.0%} latency, "
        f"{weights.cost:.0%} cost): {listed}; a convenience, the statistics above decide"
    )


__all__ = [
    "latency_breach",
    "no_difference",
    "progress",
    "rate_breach",
    "recommendation",
    "result_sentence",
    "sample_ratio_mismatch",
    "stopped",
    "treatment_wins",
]
