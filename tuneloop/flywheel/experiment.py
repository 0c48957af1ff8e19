"""The A/B test: production against the fine-tuned version on live traffic with feedback."""

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tuneloop.flywheel.baseline import PRODUCTION, production_of
from tuneloop.flywheel.client import FlywheelError, Gateway
from tuneloop.flywheel.plan import Plan
from tuneloop.flywheel.serving import Exchange, ask, give_feedback
from tuneloop.flywheel.tickets import TicketGenerator
from tuneloop.flywheel.users import SimulatedUsers

CONTROL, TREATMENT = "control", "tuned"


@dataclass
class Tally:
    """What the simulated users saw per variant (the evaluator counts on its own)."""

    served: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gold: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, variant: str, gold_star: bool) -> None:
        self.served[variant] += 1
        self.gold[variant] += gold_star

    def rate(self, variant: str) -> float:
        return self.gold[variant] / self.served[variant] if self.served[variant] else 0.0


async def start_experiment(
    gateway: Gateway, plan: Plan, control_serving: str, treatment_serving: str
) -> dict[str, Any]:
    body = {
        "name": f"{plan.model_name}-ab-{uuid.uuid4().hex[:6]}",
        "model_name": plan.model_name,
        "control": {"name": CONTROL, "serving_name": control_serving, "weight": 0.5},
        "treatments": [{"name": TREATMENT, "serving_name": treatment_serving, "weight": 0.5}],
        "primary_metric": "gold_star_rate",
        "minimum_detectable_effect": plan.minimum_detectable_effect,
        "alpha": 0.05,
        "power": 0.8,
        "stopping": {
            "method": "sequential",
            "auto_promote": True,
            "alias": PRODUCTION,
            "min_units_per_arm": plan.min_units_per_arm,
            "max_units_per_arm": plan.max_units_per_arm,
        },
    }
    created: dict[str, Any] = await gateway.post("/v1/experiments", body)
    return created


async def verdict_of(gateway: Gateway, experiment_id: str) -> dict[str, Any] | None:
    response = await gateway.call("GET", f"/v1/evaluations/experiments/{experiment_id}")
    if response.status_code == 404:
        return None  # the evaluator has not seen experiment.started yet
    if response.status_code >= 400:
        raise FlywheelError(f"the evaluator failed: {response.text[:300]}")
    view: dict[str, Any] = response.json()
    return view


async def drive_until_verdict(
    gateway: Gateway,
    plan: Plan,
    experiment_id: str,
    users: SimulatedUsers,
    on_exchange: Callable[[Exchange, bool], None],
) -> dict[str, Any]:
    """Live traffic with feedback until the evaluator concludes (or the request cap)."""
    generator = TicketGenerator(plan.seed + 1000)
    sent = 0
    while sent < plan.ab_request_limit:
        view = await verdict_of(gateway, experiment_id)
        if view is not None and view["status"] == "concluded":
            return view
        batch = [
            (users.user_id(100_000 + sent + i), generator.next()) for i in range(plan.concurrency)
        ]
        sent += len(batch)
        exchanges = await asyncio.gather(
            *(
                ask(gateway, plan.model_name, ticket, user, plan.max_tokens, plan.system_prompt)
                for user, ticket in batch
            )
        )
        for (_, ticket), exchange in zip(batch, exchanges, strict=True):
            feedback = users.judge(ticket, exchange.request_id, exchange.answer)
            # live users rate, they do not write corrections here
            await give_feedback(gateway, type(feedback)(feedback.request_id, feedback.score, None))
            on_exchange(exchange, feedback.score.gold_star)
    return await wait_for_verdict(gateway, experiment_id, timeout=60)


async def wait_for_verdict(gateway: Gateway, experiment_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    view = None
    while time.monotonic() < deadline:
        view = await verdict_of(gateway, experiment_id)
        if view is not None and view["status"] == "concluded":
            return view
        await asyncio.sleep(0.5)
    summary = view["summary"] if view else "the evaluator never saw the experiment"
    raise FlywheelError(f"no verdict on {experiment_id} after the traffic cap: {summary}")


async def wait_for_production(
    gateway: Gateway, model_name: str, serving_name: str, timeout: float
) -> bool:
    """Whether production moved to ``serving_name`` (the evaluator's promotion) in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = await production_of(gateway, model_name)
        if current is not None and current.serving_name == serving_name:
            return True
        await asyncio.sleep(0.5)
    return False


__all__ = [
    "CONTROL",
    "TREATMENT",
    "Tally",
    "drive_until_verdict",
    "start_experiment",
    "verdict_of",
    "wait_for_production",
]
