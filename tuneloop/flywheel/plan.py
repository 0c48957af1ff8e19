"""How big a flywheel run is: the quick one on the tiny test model, the full one on SmolLM2."""

from dataclasses import dataclass, replace
from typing import Any

from libs.models.registry import SMOLLM2, TINY_LLAMA
from tuneloop.flywheel.tickets import SHORT_SYSTEM_PROMPT, SYSTEM_PROMPT


@dataclass(frozen=True)
class Plan:
    base_model: str
    live_requests: int
    """Requests served by production before training (step a)."""
    correction_rate: float
    """Share of users who write the answer they expected after a bad one."""
    max_tokens: int
    hyperparameters: dict[str, Any]
    min_units_per_arm: int
    max_units_per_arm: int
    minimum_detectable_effect: float
    system_prompt: str = SYSTEM_PROMPT
    model_name: str = "support-triage"
    dataset_name: str = "support-triage-gold"
    seed: int = 7
    concurrency: int = 8
    """Requests in flight at once (live traffic and the A/B test): the engine batches them."""
    calls_per_month: int = 10_000
    """ROI assumption: tickets a month."""
    value_per_error_usd: float = 1.0
    """ROI assumption: what one mistriaged ticket costs (an agent re-routing it)."""

    @property
    def ab_request_limit(self) -> int:
        """Traffic the A/B step may send before giving up on a verdict: enough for both arms
        to reach their cap (where the evaluator must conclude) however the units split."""
        return self.max_units_per_arm * 3 + 20


QUICK = Plan(
    base_model=TINY_LLAMA,
    live_requests=48,
    correction_rate=0.9,
    max_tokens=96,
    hyperparameters={
        "n_epochs": 1,
        "max_steps": 60,
        "batch_size": 16,
        "learning_rate": 5e-3,
        "lora_r": 16,
        "lora_alpha": 32,
    },
    min_units_per_arm=10,
    max_units_per_arm=25,
    minimum_detectable_effect=0.3,
    system_prompt=SHORT_SYSTEM_PROMPT,
)

FULL = Plan(
    base_model=SMOLLM2,
    live_requests=96,
    correction_rate=0.9,
    max_tokens=44,
    hyperparameters={
        "n_epochs": 3,
        "batch_size": 8,
        "learning_rate": 1e-3,
        "lora_r": 16,
        "lora_alpha": 32,
    },
    min_units_per_arm=20,
    max_units_per_arm=60,
    minimum_detectable_effect=0.3,
)


def plan_for(quick: bool, base_model: str | None = None) -> Plan:
    chosen = QUICK if quick else FULL
    if base_model is None:
        return chosen
    return replace(chosen, base_model=base_model)


__all__ = ["FULL", "QUICK", "Plan", "plan_for"]
