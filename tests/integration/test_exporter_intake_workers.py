"""Large batches of examples are checked in worker processes: stored exactly as the service
process would store them, problems reported by line, and a worker that dies loses nothing."""

import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from sqlmodel import col

from libs.storage import Database, migrate_to_head
from services.exporter.candidates import sqlite_file
from services.exporter.examples import IdSeries, Provenance
from services.exporter.intake import Intake, prepare_body, store_examples, store_prepared
from services.exporter.tables import ExporterExample
from services.exporter.tokens import HuggingFaceTokenCounter
from services.exporter.validation import Rules
from tests.conftest import unique_name
from tests.integration.exporter_support import example
from tests.polling import eventually

pytestmark = pytest.mark.integration
RULES = Rules(context_length=512)
COMPARED = ("messages", "tools", "rating", "gold_star", "domain", "extra", "token_count")


async def database_at(tmp_path: Path) -> Database:
    url = f"sqlite+aiosqlite:///{tmp_path / 'exporter.db'}"
    await migrate_to_head(url)
    return Database(url)


def body(start: int, stop: int) -> bytes:
    """A ``POST /v1/examples`` batch; with these examples, 20 of them make about 8 KiB."""
    examples = [example(i, metadata={"n": i} if i % 3 else {}) for i in range(start, stop)]
    return orjson.dumps({"examples": examples})


async def stored_rows(database: Database, tenant: str) -> list[tuple[Any, ...]]:
    names = [*COMPARED, "content_hash", "normalized_hash"]
    columns: list[Any] = [getattr(ExporterExample, name) for name in names]
    async with database.session() as session:
        result = await session.execute(
            select(*columns)
            .where(col(ExporterExample.tenant) == tenant)
            .order_by(col(ExporterExample.id))
        )
        return [tuple(row) for row in result]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@asynccontextmanager
async def started_workers(
    tmp_path: Path,
    tokenizer: Path,
    counter: HuggingFaceTokenCounter,
    workers: int = 1,
    rules: Rules = RULES,
) -> AsyncIterator[tuple[Database, Intake]]:
    """A database and an intake whose workers (any body goes to them) have started."""
    database = await database_at(tmp_path)
    intake = Intake(rules, counter, tokenizer, workers=workers, min_worker_bytes=1)
    try:
        await store_examples(database, intake, body(0, 2), Provenance(unique_name("t")))
        await eventually(intake.workers_started, what="the intake workers started", timeout=60)
        yield database, intake
    finally:
        await intake.close()
        await database.dispose()


@pytest.fixture
def tokenizer_counter(exporter_tokenizer_dir: Path) -> HuggingFaceTokenCounter:
    return HuggingFaceTokenCounter(exporter_tokenizer_dir)


async def test_a_worker_checks_large_batches_and_stores_what_this_process_would(
    tmp_path: Path, exporter_tokenizer_dir: Path, tokenizer_counter: HuggingFaceTokenCounter
) -> None:
    database = await database_at(tmp_path)
    here = Intake(RULES, tokenizer_counter)
    intake = Intake(
        RULES, tokenizer_counter, exporter_tokenizer_dir, workers=1, min_worker_bytes=4096
    )
    local, remote = unique_name("here"), unique_name("worker")
    try:
        first = await store_examples(database, intake, body(0, 40), Provenance(unique_name("t")))
        assert first.ok
        assert first.prepared.prepared_by == os.getpid()  # the workers were starting

        await eventually(intake.workers_started, what="the intake worker started", timeout=60)
        small = await store_examples(database, intake, body(0, 5), Provenance(unique_name("t")))
        assert small.prepared.prepared_by == os.getpid()  # below the worker batch size

        by_worker = await store_examples(database, intake, body(0, 300), Provenance(remote))
        by_here = await store_examples(database, here, body(0, 300), Provenance(local))
        assert by_worker.prepared.prepared_by != os.getpid()
        assert by_worker.prepared.ready is not None
        assert by_worker.prepared.ready.stored  # by the worker, into the SQLite file
        assert by_here.prepared.prepared_by == os.getpid()
        assert len(by_worker.ids) == 300
        assert await stored_rows(database, remote) == await stored_rows(database, local)
    finally:
        await intake.close()
        await database.dispose()


async def test_a_worker_reports_every_bad_row_and_nothing_is_stored(
    tmp_path: Path, exporter_tokenizer_dir: Path, tokenizer_counter: HuggingFaceTokenCounter
) -> None:
    tenant = unique_name("bad")
    async with started_workers(tmp_path, exporter_tokenizer_dir, tokenizer_counter) as (
        database,
        intake,
    ):
        examples = [example(i) for i in range(50)]
        examples[6]["messages"][1]["content"] = ""
        examples[30]["messages"][-1]["content"] = "word " * 600
        batch = orjson.dumps({"examples": examples})
        refused = await store_examples(database, intake, batch, Provenance(tenant))
        assert refused.prepared.prepared_by != os.getpid()
        assert not refused.ok
        assert refused.ids == []
        checked = refused.prepared.checked
        problems = [(c.line, p.field, p.code) for c in checked for p in c.verdict.errors]
        assert problems == [
            (7, "messages[1].content", "empty_content"),
            (7, "messages", "prompt_too_short"),
            (31, "messages", "too_many_tokens"),
        ]
        assert await stored_rows(database, tenant) == []

        against_contract = orjson.dumps({"examples": [{"messages": [], "rating": 9}]})
        invalid = await store_examples(database, intake, against_contract, Provenance(tenant))
        assert invalid.prepared.prepared_by != os.getpid()
        fields = [(e.field, e.code) for e in invalid.prepared.request_errors]
        assert ("ExampleBatch.examples.0.messages", "too_short") in fields
        assert ("ExampleBatch.examples.0.rating", "less_than_equal") in fields
        assert await stored_rows(database, tenant) == []


async def test_a_batch_whose_worker_dies_is_checked_here_and_new_workers_start(
    tmp_path: Path, exporter_tokenizer_dir: Path, tokenizer_counter: HuggingFaceTokenCounter
) -> None:
    tenant = unique_name("survives")
    async with started_workers(tmp_path, exporter_tokenizer_dir, tokenizer_counter) as (
        database,
        intake,
    ):
        worker = (
            await store_examples(database, intake, body(0, 10), Provenance(tenant))
        ).prepared.prepared_by
        assert worker != os.getpid()

        os.kill(worker, signal.SIGKILL)
        await eventually(lambda: not alive(worker), what="the worker gone")
        survived = await store_examples(database, intake, body(10, 30), Provenance(tenant))
        assert survived.ok
        assert survived.prepared.prepared_by == os.getpid()
        assert len(await stored_rows(database, tenant)) == 30

        await store_examples(database, intake, body(30, 32), Provenance(tenant))
        await eventually(intake.workers_started, what="a new intake worker", timeout=60)
        again = await store_examples(database, intake, body(32, 40), Provenance(tenant))
        assert again.prepared.prepared_by not in (os.getpid(), worker)
        assert len(await stored_rows(database, tenant)) == 40


async def test_a_batch_a_worker_stored_before_it_stopped_is_not_stored_again(
    tmp_path: Path, exporter_tokenizer_dir: Path, tokenizer_counter: HuggingFaceTokenCounter
) -> None:
    tenant = unique_name("once")
    async with started_workers(tmp_path, exporter_tokenizer_dir, tokenizer_counter) as (
        database,
        intake,
    ):
        ids, provenance, batch = IdSeries.new(), Provenance(tenant), body(0, 25)
        by_worker = await intake.prepare(batch, provenance, "sqlite", ids, sqlite_file(database))
        assert by_worker.ready is not None
        assert by_worker.ready.stored
        # its answer lost: the body is checked here, with the same ids, as "maybe stored"
        again = prepare_body(batch, provenance, RULES, tokenizer_counter, "sqlite", ids)
        again.maybe_stored = True
        stored = await store_prepared(database, intake, again)

        assert stored.ids == by_worker.ready.ids
        assert len(await stored_rows(database, tenant)) == 25

        other = prepare_body(body(25, 30), provenance, RULES, tokenizer_counter, "sqlite")
        other.maybe_stored = True  # but it was not
        assert len((await store_prepared(database, intake, other)).ids) == 5
        assert len(await stored_rows(database, tenant)) == 30


async def test_closing_the_intake_stops_its_workers(
    tmp_path: Path, exporter_tokenizer_dir: Path, tokenizer_counter: HuggingFaceTokenCounter
) -> None:
    async with started_workers(tmp_path, exporter_tokenizer_dir, tokenizer_counter, workers=2) as (
        database,
        intake,
    ):
        worker = (
            await store_examples(database, intake, body(0, 4), Provenance(unique_name("t")))
        ).prepared.prepared_by
        assert alive(worker)
        await intake.close()
        assert not alive(worker)
        assert not intake.workers_started()
