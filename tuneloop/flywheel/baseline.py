"""What production serves before the run: the base model itself on a first run."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from tuneloop.flywheel.client import FlywheelError, Gateway

PRODUCTION = "production"


@dataclass(frozen=True)
class Serving:
    version: int
    serving_name: str


async def require_base_model(gateway: Gateway, base_model: str) -> None:
    listed = await gateway.get("/v1/models")
    names = {model["id"] for model in listed.get("data", [])}
    if base_model not in names:
        raise FlywheelError(
            f"the router does not serve the base model {base_model!r} (it serves "
            f"{', '.join(sorted(names)) or 'nothing'}); start the stack with "
            f"TUNELOOP_BASE_MODEL={base_model} or run the flywheel "
            f"{'without' if base_model == 'tiny-llama' else 'with'} --quick"
        )


async def production_of(gateway: Gateway, model_name: str) -> Serving | None:
    response = await gateway.call("GET", f"/v1/registry/models/{model_name}/aliases/{PRODUCTION}")
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        raise FlywheelError(f"the registry failed: {response.text[:300]}")
    alias: dict[str, Any] = response.json()
    return Serving(alias["version"], alias["serving_name"])


async def ensure_production(
    gateway: Gateway, model_name: str, base_model: str
) -> tuple[Serving, bool]:
    """Production of ``model_name``; on a first run the base model is registered and deployed.

    Returns the serving version and whether it was created now.
    """
    current = await production_of(gateway, model_name)
    if current is not None:
        return current, False
    version = await gateway.post(
        "/v1/registry/models",
        {
            "model_name": model_name,
            "base_model": base_model,
            "description": "Support ticket triage (strict JSON).",
            "actor": "flywheel",
        },
    )
    await gateway.post(
        f"/v1/registry/models/{model_name}/deployments",
        {
            "version": version["version"],
            "alias": PRODUCTION,
            "actor": "flywheel",
            "notes": "the base model serves until a fine-tuned version wins",
        },
    )
    await wait_until_routed(gateway, model_name, timeout=60)
    return Serving(version["version"], version["serving_name"]), True


async def wait_until_routed(gateway: Gateway, model_name: str, timeout: float) -> None:
    """The router learns of deployments from the registry's events: wait until it has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = await gateway.get("/v1/models")
        if model_name in {model["id"] for model in listed.get("data", [])}:
            return
        await asyncio.sleep(0.25)
    raise FlywheelError(
        f"the router did not pick up the deployment of {model_name!r} within {timeout:.0f}s; "
        "see the router's and the registry's logs"
    )


__all__ = ["PRODUCTION", "Serving", "ensure_production", "production_of", "require_base_model"]
