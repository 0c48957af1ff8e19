"""Messaging over NATS JetStream: subjects, streams, publishing, dead letters, idempotency."""

from libs.messaging.bus import (
    Bus,
    broadcast_subscriber,
    command_subscriber,
    create_broker,
    event_publisher,
    event_subscriber,
    query_subscriber,
    stop_broker,
)
from libs.messaging.deadletter import DeadLetter, list_dead_letters, replay_dead_letter
from libs.messaging.errors import PermanentError
from libs.messaging.inbox import claim_message, claim_messages
from libs.messaging.outbox import OutboxRelay, add_to_outbox
from libs.messaging.streams import ensure_streams, stream_configs
from libs.messaging.subjects import Subjects

__all__ = [
    "Bus",
    "DeadLetter",
    "OutboxRelay",
    "PermanentError",
    "Subjects",
    "add_to_outbox",
    "broadcast_subscriber",
    "claim_message",
    "claim_messages",
    "command_subscriber",
    "create_broker",
    "ensure_streams",
    "event_publisher",
    "event_subscriber",
    "list_dead_letters",
    "query_subscriber",
    "replay_dead_letter",
    "stop_broker",
    "stream_configs",
]
