"""Create or update every JetStream stream tuneloop uses, idempotently."""

from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.services import SERVICE_NAMES
from libs.messaging.subjects import EVENT_CONCERNS, Subjects

EVENT_RETENTION = timedelta(days=30)
DEADLETTER_RETENTION = timedelta(days=30)
DUPLICATE_WINDOW = timedelta(minutes=2)


def stream_configs(subjects: Subjects, replicas: int = 1) -> list[StreamConfig]:
    """One stream per event concern, one work queue per service, one dead-letter stream."""
    common = {
        "storage": StorageType.FILE,
        "num_replicas": replicas,
        "duplicate_window": DUPLICATE_WINDOW.total_seconds(),
    }
    events = [
        StreamConfig(name=subjects.events_stream(concern),
                     subjects=[subjects.events_filter(concern)],
                     retention=RetentionPolicy.LIMITS,
                     max_age=EVENT_RETENTION.total_seconds(), **common)  # type: ignore[arg-type]
        for concern in EVENT_CONCERNS
    ]
    commands = [
        StreamConfig(name=subjects.commands_stream(service),
                     subjects=[subjects.commands_filter(service)],
                     retention=RetentionPolicy.WORK_QUEUE,
                     discard=DiscardPolicy.NEW, **common)  # type: ignore[arg-type]
        for service in SERVICE_NAMES
    ]
    deadletters = StreamConfig(name=subjects.deadletter_stream(),
                               subjects=[subjects.deadletter_filter()],
                               retention=RetentionPolicy.LIMITS,
                               max_age=DEADLETTER_RETENTION.total_seconds(),
                               **common)  # type: ignore[arg-type]
    return [*events, *commands, deadletters]


async def ensure_streams(js: JetStreamContext, subjects: Subjects, replicas: int = 1) -> None:
    """Add missing streams and update changed ones; safe to call from every process."""
    for config in stream_configs(subjects, replicas):
        assert config.name is not None
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


__all__ = ["ensure_streams", "stream_configs"]
