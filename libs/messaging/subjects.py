"""Subject and stream names, all under one configurable prefix.

- events:    ``<prefix>.events.<type>``                 stream ``<PREFIX>_EVENTS_<CONCERN>``
- commands:  ``<prefix>.commands.<service>.<type>``     work-queue ``<PREFIX>_COMMANDS_<SERVICE>``
- queries:   ``<prefix>.queries.<service>.<name>``      request-reply, in no stream
- dead letters: ``<prefix>.deadletter.<consumer>``      stream ``<PREFIX>_DEADLETTER``
"""

import re
from dataclasses import dataclass

from contracts.envelope import Command, Event

EVENT_CONCERNS = (
    "dataset",
    "job",
    "model",
    "inference",
    "feedback",
    "evaluation",
    "experiment",
    "cost",
    "budget",
    "retraining",
    "api_key",
)


def _stream_token(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", text).upper()


@dataclass(frozen=True)
class Subjects:
    """Names derived from one subject prefix (``tuneloop`` by default)."""

    prefix: str = "tuneloop"

    def event(self, event: type[Event]) -> str:
        return f"{self.prefix}.events.{event.message_type()}"

    def command(self, command: type[Command]) -> str:
        if not command.SERVICE:
            raise TypeError(f"{command.__name__} does not name its owning SERVICE")
        return f"{self.prefix}.commands.{command.SERVICE}.{command.message_type()}"

    def query(self, service: str, name: str) -> str:
        return f"{self.prefix}.queries.{service}.{name}"

    def health(self, service: str) -> str:
        return self.query(service, "health")

    def deadletter(self, consumer: str) -> str:
        return f"{self.prefix}.deadletter.{consumer}"

    def deadletter_filter(self) -> str:
        return f"{self.prefix}.deadletter.>"

    def events_stream(self, concern: str) -> str:
        return f"{_stream_token(self.prefix)}_EVENTS_{_stream_token(concern)}"

    def events_filter(self, concern: str) -> str:
        return f"{self.prefix}.events.{concern}.>"

    def commands_stream(self, service: str) -> str:
        return f"{_stream_token(self.prefix)}_COMMANDS_{_stream_token(service)}"

    def commands_filter(self, service: str) -> str:
        return f"{self.prefix}.commands.{service}.>"

    def deadletter_stream(self) -> str:
        return f"{_stream_token(self.prefix)}_DEADLETTER"

    def stream_of_event(self, event: type[Event]) -> str:
        return self.events_stream(event.concern())

    def stream_of_command(self, command: type[Command]) -> str:
        return self.commands_stream(command.SERVICE)

    def consumer_name(self, service: str, message_type: str) -> str:
        """Durable consumer of one service for one message type (shared by its replicas)."""
        return f"{service}__{message_type.replace('.', '_')}"


__all__ = ["EVENT_CONCERNS", "Subjects"]
