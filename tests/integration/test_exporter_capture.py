"""The exporter stores captured payloads (``inference.captured``) that feedback rates later."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.nats import NatsRouter
from sqlalchemy import select
from sqlmodel import col

from contracts.events import FeedbackRecorded, InteractionCaptured
from libs.messaging import Subjects
from libs.storage import Database
from services.exporter.handlers import register_handlers, store_capture
from services.exporter.tables import ExporterExample
from tests.integration.exporter_support import exporter_on
from tests.integration.harness import running_bus
from tests.polling import eventually

pytestmark = pytest.mark.integration

QUESTION = "My parcel with order 1234 never arrived, can you check it please?"
ANSWER = '{"category": "shipping", "priority": "medium", "reply": "We are on it."}'
BETTER = '{"category": "shipping", "priority": "high", "reply": "Sorry, we are on it."}'


@pytest.fixture
async def database(migrated_database_url: str) -> AsyncIterator[Database]:
    db = Database(migrated_database_url)
    yield db
    await db.dispose()


def captured(request_id: str, tenant: str = "acme") -> InteractionCaptured:
    return InteractionCaptured(
        tenant=tenant,
        request_id=request_id,
        requested_model="support",
        serving_name="support@1-abcdef12",
        experiment_id="exp_1",
        variant="control",
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": ANSWER},
        ],
        redacted=True,
    )


async def examples(database: Database, request_id: str) -> list[ExporterExample]:
    async with database.session() as session:
        statement = select(ExporterExample).where(col(ExporterExample.request_id) == request_id)
        return list((await session.execute(statement)).scalars().all())


async def test_captures_are_stored_unrated_then_rated_and_corrected(
    nats_url: str,
    subjects: Subjects,
    database: Database,
    tmp_path: Path,
    exporter_tokenizer_dir: Path,
) -> None:
    exporter = exporter_on(database, tmp_path / "artifacts", exporter_tokenizer_dir)
    router = NatsRouter()
    register_handlers(router, subjects, exporter)
    async with running_bus(nats_url, subjects, router) as bus:
        event = captured("req-c1")
        await bus.publish_event(event)
        await eventually(lambda: _count(database, "req-c1", 1), what="capture stored")
        [stored] = await examples(database, "req-c1")
        assert (stored.tenant, stored.source, stored.rating, stored.gold_star) == (
            "acme",
            "capture",
            None,
            False,
        )
        assert json.loads(stored.messages)[-1] == {"role": "assistant", "content": ANSWER}
        assert stored.extra["variant"] == "control"

        await store_capture(exporter, event)  # a redelivery stores nothing twice
        await store_capture(exporter, captured("req-c1"))  # nor does a second capture
        assert len(await examples(database, "req-c1")) == 1

        feedback = FeedbackRecorded(
            tenant="acme", request_id="req-c1", rating=2, corrected_answer=BETTER
        )
        await bus.publish_event(feedback)
        await eventually(lambda: _corrections(database, 1), what="correction stored")
    [capture] = await examples(database, "req-c1")
    assert (capture.rating, capture.gold_star) == (2, False)
    [correction] = await corrections(database)
    assert (correction.rating, correction.gold_star) == (5, True)
    assert correction.extra["corrects"] == capture.id
    corrected = json.loads(correction.messages)
    assert corrected == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": BETTER},
    ]


async def test_feedback_that_came_first_rates_the_capture(
    nats_url: str,
    subjects: Subjects,
    database: Database,
    tmp_path: Path,
    exporter_tokenizer_dir: Path,
) -> None:
    exporter = exporter_on(database, tmp_path / "artifacts", exporter_tokenizer_dir)
    router = NatsRouter()
    register_handlers(router, subjects, exporter)
    async with running_bus(nats_url, subjects, router) as bus:
        await bus.publish_event(
            FeedbackRecorded(tenant="acme", request_id="req-c2", rating=5, gold_star=True)
        )
        await bus.publish_event(captured("req-c2"))
        await eventually(lambda: _count(database, "req-c2", 1), what="capture stored")
        await eventually(lambda: _gold(database, "req-c2"), what="rated as it was stored")


async def corrections(database: Database) -> list[ExporterExample]:
    async with database.session() as session:
        statement = select(ExporterExample).where(col(ExporterExample.source) == "correction")
        return list((await session.execute(statement)).scalars().all())


async def _corrections(database: Database, expected: int) -> bool:
    return len(await corrections(database)) == expected


async def _count(database: Database, request_id: str, expected: int) -> bool:
    return len(await examples(database, request_id)) == expected


async def _gold(database: Database, request_id: str) -> bool:
    rows = await examples(database, request_id)
    return bool(rows) and rows[0].gold_star and rows[0].rating == 5
