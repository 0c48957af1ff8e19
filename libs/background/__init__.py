"""Background loops: tasks that run until they are stopped, waking on an event or a timer."""

from libs.background.loop import BackgroundLoop, Round
from libs.background.waiting import wait_for_event

__all__ = ["BackgroundLoop", "Round", "wait_for_event"]
