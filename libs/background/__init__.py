"""Background loops: tasks that run until they are cancelled, waking on an event or a timer."""

from libs.background.waiting import wait_for_event

__all__ = ["wait_for_event"]
