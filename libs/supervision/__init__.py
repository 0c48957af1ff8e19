"""Starting, watching and stopping the processes tuneloop depends on."""

from libs.supervision.nats_server import EmbeddedNats, NatsServerFailed, NatsServerNotFound
from libs.supervision.postgres import PostgresNotFound, PostgresStartError, ThrowawayPostgres
from libs.supervision.process import ManagedProcess, wait_until

__all__ = [
    "EmbeddedNats",
    "ManagedProcess",
    "NatsServerFailed",
    "NatsServerNotFound",
    "PostgresNotFound",
    "PostgresStartError",
    "ThrowawayPostgres",
    "wait_until",
]
