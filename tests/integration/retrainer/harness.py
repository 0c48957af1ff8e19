"""The retrainer running in the test's process, and the test standing in for the services it
works with: it takes their commands, answers their queries and publishes their events."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from faststream.nats import NatsRouter

from contracts.commands import (
    CancelJob,
    CreateJob,
    ExportDataset,
    StartEvaluation,
    StartExperiment,
)
from contracts.envelope import Command
from contracts.events import (
    RetrainingCompleted,
    RetrainingPolicyChanged,
    RetrainingTriggered,
    RetrainingUpdated,
)
from contracts.queries import ExampleCountQuery, ExampleCountReply, ServableQuery, ServableReply
from libs.messaging import Subjects, command_subscriber, event_subscriber, query_subscriber
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.process import start_messaging, stop_messaging
from libs.storage import migrate_to_head
from libs.tenancy import TENANT_HEADER
from services.retrainer import DEFINITION
from services.retrainer.settings import RetrainerSettings
from tests.support.identity import TEST_SECRET, ClaimedTenantsSigned

TENANT = "acme"


def retrainer_settings(
    home: Path, nats_url: str, subjects: Subjects, database_url: str, **extra: Any
) -> RetrainerSettings:
    options: dict[str, Any] = {
        "tick_seconds": 0.1,
        "count_seconds": 3600.0,
        "query_timeout_seconds": 2.0,
        **extra,
    }
    return RetrainerSettings(
        home=home,
        nats_url=nats_url,
        subject_prefix=subjects.prefix,
        database_url=database_url,
        artifacts_dir=home / "artifacts",
        internal_secret=TEST_SECRET,
        **options,
    )


@asynccontextmanager
async def running_retrainer(settings: RetrainerSettings) -> AsyncIterator[AssembledService]:
    await migrate_to_head(settings.resolved_database_url())
    service = assemble(DEFINITION, settings)
    await start_messaging(service)
    try:
        yield service
    finally:
        await stop_messaging(service)


def api_client(service: AssembledService) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.api),
        base_url="http://retrainer",
        headers={TENANT_HEADER: TENANT},
        auth=ClaimedTenantsSigned(),
    )


class Stand:
    """The exporter, trainer, evaluator and router as far as the retrainer can tell."""

    def __init__(self) -> None:
        self.gold_stars = 0
        self.servable: set[str] = set()
        self.servable_asked = 0
        self.count_asked = 0
        self.commands: list[Command] = []
        self.events: list[Any] = []

    def sent(self, kind: type[Command]) -> list[Any]:
        return [c for c in self.commands if isinstance(c, kind)]

    def told(self, kind: type[Any], run_id: str | None = None) -> list[Any]:
        return [
            e
            for e in self.events
            if isinstance(e, kind) and (run_id is None or getattr(e, "run_id", None) == run_id)
        ]

    def router(self, subjects: Subjects) -> NatsRouter:
        router = NatsRouter()
        for command in (ExportDataset, CreateJob, CancelJob, StartEvaluation, StartExperiment):
            self._take(router, subjects, command)
        for event in (
            RetrainingTriggered,
            RetrainingUpdated,
            RetrainingCompleted,
            RetrainingPolicyChanged,
        ):
            self._listen(router, subjects, event)

        @query_subscriber(router, subjects, "exporter", ExampleCountQuery.message_type())
        async def count(query: ExampleCountQuery) -> ExampleCountReply:
            assert query.filters.gold_star_only
            self.count_asked += 1
            return ExampleCountReply(matching=self.gold_stars + 7, gold_star=self.gold_stars)

        @query_subscriber(router, subjects, "router", ServableQuery.message_type())
        async def servable(query: ServableQuery) -> ServableReply:
            self.servable_asked += 1
            return ServableReply(servable=[n for n in query.serving_names if n in self.servable])

        return router

    def _take(self, router: NatsRouter, subjects: Subjects, kind: type[Command]) -> None:
        @command_subscriber(router, subjects, kind)
        async def take(command: kind) -> None:  # type: ignore[valid-type]
            self.commands.append(command)

    def _listen(self, router: NatsRouter, subjects: Subjects, kind: type[Any]) -> None:
        @event_subscriber(router, subjects, "observer", kind)
        async def listen(event: kind) -> None:  # type: ignore[valid-type]
            self.events.append(event)


__all__ = ["TENANT", "Stand", "api_client", "retrainer_settings", "running_retrainer"]
