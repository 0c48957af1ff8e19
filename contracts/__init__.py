"""The one source of truth for every message and HTTP body that crosses a service boundary.

Events are facts in the past tense, commands are imperative requests for one owning service,
queries are request-reply messages outside any stream. Every message carries the envelope
fields of :class:`contracts.envelope.Message`.
"""

from contracts.envelope import Command, Event, Message, Query
from contracts.services import SERVICE_NAMES

__all__ = ["SERVICE_NAMES", "Command", "Event", "Message", "Query"]
