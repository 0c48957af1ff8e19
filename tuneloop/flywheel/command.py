"""Running the flywheel: against a running stack, or right after ``tuneloop up`` started one."""

from pathlib import Path

from rich.console import Console

from libs.messaging import Subjects
from tuneloop.flywheel.client import Gateway
from tuneloop.flywheel.events import Bus
from tuneloop.flywheel.plan import plan_for
from tuneloop.flywheel.runner import Flywheel, RunRecord


async def run_flywheel(
    *,
    gateway_url: str,
    api_key: str | None,
    nats_url: str | None,
    subject_prefix: str,
    home: Path,
    quick: bool,
    base_model: str | None,
    console: Console,
) -> RunRecord:
    plan = plan_for(quick, base_model)
    gateway = Gateway(gateway_url, api_key)
    bus = Bus(nats_url, Subjects(subject_prefix)) if nats_url else None
    try:
        return await Flywheel(gateway, bus, plan, console, home).run()
    finally:
        await gateway.close()


__all__ = ["run_flywheel"]
