"""The exporter over real NATS: the export command, `dataset.exported`, and feedback."""

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import nats
import pytest
from faststream.nats import NatsRouter
from nats.aio.msg import Msg
from sqlalchemy import select, update
from sqlmodel import col

from contracts.commands import ExportDataset
from contracts.events import DatasetExported, DatasetExportFailed, FeedbackRecorded
from contracts.queries import ExampleCountQuery, ExampleCountReply
from contracts.selection import ExportFilters
from libs.messaging import OutboxRelay, Subjects, event_subscriber
from libs.storage import Database
from services.exporter.export_runs import find_export
from services.exporter.handlers import record_feedback, register_handlers
from services.exporter.runtime import Exporter
from services.exporter.tables import ExporterExample
from tests.integration.exporter_support import conversation, example, exporter_on, http_client
from tests.integration.harness import running_bus
from tests.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(migrated_database_url: str) -> AsyncIterator[Database]:
    db = Database(migrated_database_url)
    yield db
    await db.dispose()


async def rating_of(database: Database, request_id: str) -> tuple[int | None, bool] | None:
    async with database.session() as session:
        statement = select(col(ExporterExample.rating), col(ExporterExample.gold_star)).where(
            col(ExporterExample.request_id) == request_id
        )
        row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1])


async def test_export_command_publishes_a_dataset_exported_event_matching_its_contract(
    nats_url: str,
    subjects: Subjects,
    database: Database,
    tmp_path: Path,
    exporter_tokenizer_dir: Path,
) -> None:
    received: list[DatasetExported] = []
    raw: list[bytes] = []
    router = NatsRouter()
    holder: list[Exporter] = []

    @event_subscriber(router, subjects, "trainer", DatasetExported)
    async def on_exported(event: DatasetExported) -> None:
        received.append(event)

    client = await nats.connect(nats_url)
    async with running_bus(nats_url, subjects) as probe:
        sub = await client.subscribe(subjects.event(DatasetExported), cb=_collect(raw))
        relay = OutboxRelay(database, probe)
        exporter = exporter_on(
            database, tmp_path / "artifacts", exporter_tokenizer_dir, bus=probe, outbox=relay
        )
        holder.append(exporter)
        register_handlers(router, subjects, exporter)
        async with running_bus(nats_url, subjects, router) as bus, http_client(exporter) as http:
            relay.start()
            batch = {"examples": [example(i) for i in range(20)]}
            await http.post("/v1/examples", json=batch, headers={"X-Tuneloop-Tenant": "acme"})
            command = ExportDataset(tenant="acme", name="support", format="chatml")
            await bus.send_command(command)
            await bus.send_command(command)  # a duplicate send changes nothing
            await eventually(lambda: len(received) >= 1, what="dataset.exported received")
            status = await http.get(
                f"/v1/datasets/exports/{command.id}", headers={"X-Tuneloop-Tenant": "acme"}
            )
            await relay.stop()
        await sub.unsubscribe()
    await client.close()

    event = received[0]
    assert DatasetExported.model_validate_json(raw[0]) == event
    assert (event.tenant, event.dataset, event.version, event.format) == (
        "acme",
        "support",
        1,
        "chatml",
    )
    assert event.dataset_id == command.id
    assert event.train_rows + event.test_rows == 20
    assert event.splits["train"].rows == event.train_rows
    artifacts = holder[0].tools.artifacts
    train = await artifacts.get_bytes(event.artifact_sha256)
    assert hashlib.sha256(train).hexdigest() == event.artifact_sha256
    assert event.manifest_sha256 is not None
    assert await artifacts.exists(event.manifest_sha256)
    assert len(received) == 1
    assert status.json()["status"] == "succeeded"  # the command's export is followed by its id
    assert (status.json()["dataset_id"], status.json()["version"]) == (command.id, 1)


def _collect(target: list[bytes]) -> Callable[[Msg], Awaitable[None]]:
    async def collect(message: Msg) -> None:
        target.append(message.data)

    return collect


async def test_feedback_rates_the_captured_example_once(
    nats_url: str,
    subjects: Subjects,
    database: Database,
    tmp_path: Path,
    exporter_tokenizer_dir: Path,
) -> None:
    exporter = exporter_on(database, tmp_path / "artifacts", exporter_tokenizer_dir)
    router = NatsRouter()
    register_handlers(router, subjects, exporter)
    async with running_bus(nats_url, subjects, router) as bus, http_client(exporter) as http:
        captured = {**example(1), "rating": None, "request_id": "req-1"}
        await http.post("/v1/examples", json=captured)
        feedback = FeedbackRecorded(request_id="req-1", rating=5, gold_star=True)
        await bus.publish_event(feedback)
        await eventually(
            lambda: _equals(rating_of(database, "req-1"), (5, True)), what="rating applied"
        )
        early = FeedbackRecorded(request_id="req-2", rating=2)
        await bus.publish_event(early)
        await eventually(lambda: _processed(database, early.id), what="early feedback kept")
        await http.post("/v1/examples", json={**example(2), "request_id": "req-2"})
        assert await rating_of(database, "req-2") == (2, False)

        better = "Order 2 was delayed by the carrier; it is now due on Friday morning."
        correction = FeedbackRecorded(request_id="req-2", rating=2, corrected_answer=better)
        await bus.publish_event(correction)
        await eventually(lambda: _processed(database, correction.id), what="correction stored")
    async with database.session() as session:
        statement = select(ExporterExample).where(col(ExporterExample.source) == "correction")
        [gold] = (await session.execute(statement)).scalars().all()
    assert (gold.rating, gold.gold_star) == (5, True)
    assert better in gold.messages

    async with database.transaction() as session:
        await session.execute(update(ExporterExample).values(rating=3))
    await record_feedback(exporter, feedback)  # a redelivery applies nothing
    assert await rating_of(database, "req-1") == (3, True)


async def test_corrections_export_as_preference_pairs_for_dpo(
    nats_url: str,
    subjects: Subjects,
    database: Database,
    tmp_path: Path,
    exporter_tokenizer_dir: Path,
) -> None:
    exporter = exporter_on(database, tmp_path / "artifacts", exporter_tokenizer_dir)
    router = NatsRouter()
    register_handlers(router, subjects, exporter)
    served = "Order 7 is lost, sorry; there is nothing more we can do for you."
    better = "Order 7 was delayed by the carrier; a replacement ships today, free of charge."
    async with running_bus(nats_url, subjects, router) as bus, http_client(exporter) as http:
        captured = {
            "messages": conversation(7, answer=served),
            "request_id": "req-7",
            "domain": "support",
        }
        await http.post("/v1/examples", json={"examples": [captured, example(8), example(9)]})
        correction = FeedbackRecorded(request_id="req-7", rating=1, corrected_answer=better)
        await bus.publish_event(correction)
        await eventually(lambda: _processed(database, correction.id), what="correction stored")
        exported = await http.post(
            "/v1/datasets/exports?wait=true",
            json={"name": "prefs", "format": "openai-preference-jsonl", "min_examples": 1},
        )
        assert exported.status_code == 201, exported.text
        detail = exported.json()
        train = (await http.get(f"/v1/datasets/{detail['id']}/files/train")).text
    [pair] = [json.loads(line) for line in train.splitlines()]
    assert pair["preferred_output"] == [{"role": "assistant", "content": better}]
    assert pair["non_preferred_output"] == [{"role": "assistant", "content": served}]
    assert pair["input"]["messages"][-1]["role"] == "user"
    assert detail["manifest"]["excluded"]["no_rejected_answer"] == 3


async def _equals(value: Awaitable[object], expected: object) -> bool:
    return bool(await value == expected)


async def _processed(database: Database, message_id: str) -> bool:
    from libs.messaging.tables import ProcessedMessage

    async with database.session() as session:
        statement = select(ProcessedMessage).where(col(ProcessedMessage.message_id) == message_id)
        return (await session.execute(statement)).first() is not None


async def test_an_export_command_that_cannot_succeed_reports_why(
    nats_url: str,
    subjects: Subjects,
    database: Database,
    tmp_path: Path,
    exporter_tokenizer_dir: Path,
) -> None:
    failures: list[DatasetExportFailed] = []
    router = NatsRouter()

    @event_subscriber(router, subjects, "gateway", DatasetExportFailed)
    async def on_failed(event: DatasetExportFailed) -> None:
        failures.append(event)

    async with running_bus(nats_url, subjects) as probe:
        relay = OutboxRelay(database, probe)
        exporter = exporter_on(
            database, tmp_path / "artifacts", exporter_tokenizer_dir, bus=probe, outbox=relay
        )
        register_handlers(router, subjects, exporter)
        async with running_bus(nats_url, subjects, router) as bus:
            relay.start()
            command = ExportDataset(tenant="empty", name="nothing")
            await bus.send_command(command)
            await eventually(lambda: len(failures) == 1, what="dataset.export_failed received")
            await relay.stop()
    recorded = await find_export(exporter, command.id, "empty")
    assert recorded is not None
    assert recorded.status == "failed"
    assert recorded.error is not None
    assert recorded.error.code == "too_few_examples"
    failure = failures[0]
    assert (failure.code, failure.command_id, failure.considered) == (
        "too_few_examples",
        command.id,
        0,
    )
    assert "at least 3 are needed" in failure.message


async def test_the_count_query_tells_how_many_gold_stars_match_a_policys_filters(
    nats_url: str,
    subjects: Subjects,
    database: Database,
    tmp_path: Path,
    exporter_tokenizer_dir: Path,
) -> None:
    exporter = exporter_on(database, tmp_path / "artifacts", exporter_tokenizer_dir)
    router = NatsRouter()
    register_handlers(router, subjects, exporter)
    acme = {"X-Tuneloop-Tenant": "acme"}
    async with running_bus(nats_url, subjects, router) as bus, http_client(exporter) as http:
        rows = [example(i, gold_star=i % 3 == 0) for i in range(9)]
        rows += [example(i, gold_star=True, domain="billing") for i in range(9, 11)]
        await http.post("/v1/examples", json={"examples": rows}, headers=acme)

        async def count(tenant: str, **filters: object) -> ExampleCountReply:
            query = ExampleCountQuery(tenant=tenant, filters=ExportFilters(**filters))
            return await bus.ask(query, "exporter", query.type, ExampleCountReply)

        assert await count("acme", gold_star_only=True) == ExampleCountReply(
            matching=5, gold_star=5
        )
        assert await count("acme", domain="support") == ExampleCountReply(matching=9, gold_star=3)
        assert await count("globex", gold_star_only=True) == ExampleCountReply(
            matching=0, gold_star=0
        )
