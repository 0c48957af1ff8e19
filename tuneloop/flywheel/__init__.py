"""The flywheel, scripted: live traffic → capture → ratings → dataset → LoRA → registry →
A/B test → verdict → ROI, driven through the gateway's public API like a real client."""

from tuneloop.flywheel.client import FlywheelError
from tuneloop.flywheel.command import run_flywheel
from tuneloop.flywheel.runner import Flywheel, RunRecord
from tuneloop.flywheel.settings import FlywheelSettings

__all__ = ["Flywheel", "FlywheelError", "FlywheelSettings", "RunRecord", "run_flywheel"]
