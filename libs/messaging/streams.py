"""Create or update every JetStream stream tuneloop uses, idempotently."""

from datetime import timedelta
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.services import SERVICE_NAMES
from libs.messaging.subjects import EVENT_CONCERNS, Subjects

EVENT_RETENTION = timedelta(days=30)
DEADLETTER_RETENTION = timedelta(days=30)
DUPLICATE_WINDOW = timedelta(minutes=2)


def _stream(name: str, subject_filter: str, replicas: int, **policy: Any) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[subject_filter],
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        **policy,
    )


def stream_configs(subjects: Subjects, replicas: int = 1) -> list[StreamConfig]:
    """One stream per event concern, one work queue per service, one dead-letter stream."""
    events = [
        _stream(
            subjects.events_stream(concern),
            subjects.events_filter(concern),
            replicas,
            retention=RetentionPolicy.LIMITS,
            max_age=EVENT_RETENTION.total_seconds(),
        )
        for concern in EVENT_CONCERNS
    ]
    commands = [
        _stream(
            subjects.commands_stream(service),
            subjects.commands_filter(service),
            replicas,
            retention=RetentionPolicy.WORK_QUEUE,
            discard=DiscardPolicy.NEW,
        )
        for service in SERVICE_NAMES
    ]
    deadletters = _stream(
        subjects.deadletter_stream(),
        subjects.deadletter_filter(),
        replicas,
        retention=RetentionPolicy.LIMITS,
        max_age=DEADLETTER_RETENTION.total_seconds(),
    )
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
