"""Running the flywheel: against a running stack, or right after ``tuneloop up`` started one."""

import os
from pathlib import Path

from rich.console import Console

from libs.messaging import Subjects
from tuneloop.flywheel.client import Gateway, api_key
from tuneloop.flywheel.events import Bus
from tuneloop.flywheel.plan import plan_for
from tuneloop.flywheel.runner import Flywheel, RunRecord

CAPTURE_VARIABLE = "TUNELOOP_ROUTER_CAPTURE_TENANTS"
FLYWHEEL_TENANT = "default"


def enable_capture_for_flywheel() -> None:
    """``tuneloop up --flywheel``: the router captures the flywheel tenant's payloads."""
    tenants = [t.strip() for t in os.environ.get(CAPTURE_VARIABLE, "").split(",") if t.strip()]
    if "*" not in tenants and FLYWHEEL_TENANT not in tenants:
        os.environ[CAPTURE_VARIABLE] = ",".join([*tenants, FLYWHEEL_TENANT])


async def run_flywheel(
    *,
    gateway_url: str,
    nats_url: str | None,
    subject_prefix: str,
    home: Path,
    quick: bool,
    base_model: str | None,
    console: Console,
) -> RunRecord:
    plan = plan_for(quick, base_model)
    gateway = Gateway(gateway_url, api_key(home))
    bus = Bus(nats_url, Subjects(subject_prefix)) if nats_url else None
    try:
        return await Flywheel(gateway, bus, plan, console, home).run()
    finally:
        await gateway.close()


__all__ = ["enable_capture_for_flywheel", "run_flywheel"]
