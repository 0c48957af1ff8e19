"""A batch of examples is stored whole or not at all; exports from a SQLite
file read its rows with the driver and apply every filter, dates included."""

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from contracts.api.datasets import ExportFilters
from libs.storage import Database, migrate_to_head
from services.exporter.examples import Provenance, example_rows, insert_examples
from services.exporter.export import ExportPlan, run_export
from services.exporter.intake import store_examples
from services.exporter.validation import Rules, plain_shape
from tests.integration.exporter_support import example, exporter_on, stored_examples

pytestmark = pytest.mark.integration
RULES = Rules(context_length=512)


async def database_at(tmp_path: Path) -> Database:
    url = f"sqlite+aiosqlite:///{tmp_path / 'exporter.db'}"
    await migrate_to_head(url)
    return Database(url)


async def test_a_batch_is_stored_in_order_or_not_at_all(
    tmp_path: Path, exporter_tokenizer_dir: Path
) -> None:
    database = await database_at(tmp_path)
    exporter = exporter_on(database, tmp_path / "artifacts", exporter_tokenizer_dir)
    intake = exporter.intake
    size = 2050
    try:
        examples = [example(i) for i in range(1, size + 1)]
        body = orjson.dumps({"examples": examples})
        stored = await store_examples(database, intake, body, Provenance("intake-a"))
        assert stored.ok
        assert len(stored.ids) == size
        assert stored.ids == sorted(stored.ids)  # ids grow with time: request order
        assert await stored_examples(database, "intake-a") == size

        long = example(size + 1)
        long["messages"][-1]["content"] = "word " * 2000  # over the context, last
        body = orjson.dumps({"examples": [*examples, long]})
        refused = await store_examples(database, intake, body, Provenance("intake-b"))
        assert not refused.ok
        assert refused.ids == []
        checked = refused.prepared.checked
        assert [(c.line, p.code) for c in checked for p in c.verdict.errors] == [
            (size + 1, "too_many_tokens")
        ]
        assert checked[-1].tokens is not None
        assert await stored_examples(database, "intake-b") == 0
    finally:
        await database.dispose()


async def test_exports_from_a_sqlite_file_filter_by_date(
    tmp_path: Path, exporter_tokenizer_dir: Path
) -> None:
    database = await database_at(tmp_path)
    exporter = exporter_on(database, tmp_path / "artifacts", exporter_tokenizer_dir)
    days = [datetime(2026, 1, d, 12, tzinfo=UTC) for d in range(1, 11)]
    records = [
        ({**example(i), "created_at": day}, None, plain_shape(example(i)["messages"]))
        for i, day in enumerate(days)
    ]
    try:
        async with database.transaction() as session:
            await insert_examples(session, example_rows(records, Provenance("dated"), "none"))
        plan = ExportPlan(
            tenant="dated",
            name="recent",
            format="raw-jsonl",
            filters=ExportFilters(created_after=days[4], created_before=days[9]),
            min_examples=1,
            rules=RULES,
        )
        version = await run_export(exporter.tools, plan)
        assert version is not None
        assert version.train_rows + version.test_rows == 5  # days 5 to 9
        lines = (await exporter.tools.artifacts.get_bytes(version.train_sha256)).splitlines()
        assert all(b'"gold_star":false' in line for line in lines)  # a boolean, not 0
    finally:
        await database.dispose()
