"""The trainer service running in the test's process (its training runs in child processes),
and a recorder of the job events it publishes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from faststream.nats import NatsRouter

from contracts.events import (
    JobCancelled,
    JobCheckpointed,
    JobCompleted,
    JobCreated,
    JobEstimated,
    JobFailed,
    JobProgressed,
    JobQueued,
    JobStarted,
)
from contracts.events.jobs import JobEvent
from libs.messaging import Subjects, event_subscriber
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from libs.storage import migrate_to_head
from services.trainer import DEFINITION
from services.trainer.settings import TrainerSettings
from tests.support.identity import TEST_SECRET

JOB_EVENTS: tuple[type[JobEvent], ...] = (
    JobCreated,
    JobEstimated,
    JobQueued,
    JobStarted,
    JobProgressed,
    JobCheckpointed,
    JobCompleted,
    JobFailed,
    JobCancelled,
)


def trainer_settings(
    home: Path, nats_url: str, subjects: Subjects, database_url: str | None = None, **extra: Any
) -> TrainerSettings:
    return TrainerSettings(
        home=home,
        nats_url=nats_url,
        subject_prefix=subjects.prefix,
        database_url=database_url or f"sqlite+aiosqlite:///{home / 'tuneloop.db'}",
        artifacts_dir=home / "artifacts",
        models_dir=home / "models",
        torch_threads=1,
        internal_secret=TEST_SECRET,
        **extra,
    )


@asynccontextmanager
async def running_trainer(settings: TrainerSettings) -> AsyncIterator[AssembledService]:
    await migrate_to_head(settings.resolved_database_url())
    service = assemble(DEFINITION, settings)
    await start_messaging(service)
    try:
        yield service
    finally:
        await stop_messaging(service)


class EventLog:
    """Every job event seen on the bus, in arrival order."""

    def __init__(self) -> None:
        self.events: list[JobEvent] = []

    def of(self, job_id: str, kind: type[JobEvent] | None = None) -> list[Any]:
        return [
            e for e in self.events if e.job_id == job_id and (kind is None or isinstance(e, kind))
        ]

    def ended(self, job_id: str) -> bool:
        return any(isinstance(e, JobCompleted | JobFailed | JobCancelled) for e in self.of(job_id))

    def settled(self, job_id: str) -> bool:
        """Ended, and if it completed, its progress all in (the final report seen): each
        kind of event comes through a consumer of its own, in no order between kinds."""
        if not self.ended(job_id):
            return False
        if not self.of(job_id, JobCompleted):
            return True
        return any(p.reason == "final" for p in self.of(job_id, JobProgressed))

    def router(self, subjects: Subjects) -> NatsRouter:
        router = NatsRouter()
        for kind in JOB_EVENTS:
            self._subscribe(router, subjects, kind)
        return router

    def _subscribe(self, router: NatsRouter, subjects: Subjects, kind: type[JobEvent]) -> None:
        @event_subscriber(router, subjects, "observer", kind)
        async def record(event: kind) -> None:  # type: ignore[valid-type]
            self.events.append(event)


__all__ = ["EventLog", "running_trainer", "trainer_settings"]
