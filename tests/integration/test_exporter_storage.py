"""Examples inserted through SQLite's driver are stored exactly as a Core insert stores them."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text

from libs.storage import Database, migrate_to_head
from services.exporter.examples import EXAMPLES, Provenance, example_row, insert_examples
from tests.integration.exporter_support import conversation

pytestmark = pytest.mark.integration


def rows() -> list[dict[str, Any]]:
    provenance = Provenance(tenant="acme", source="upload", domain="support")
    made = []
    for i in range(30):
        record: dict[str, Any] = {"messages": conversation(i), "rating": 1 + i % 5}
        if i % 2:
            record["metadata"] = {"rejected": "Non, café ☕", "n": [1, 2.5, None]}
        if i % 3 == 0:
            record["tools"] = [{"type": "function", "function": {"name": "track"}}]
            record["gold_star"] = True
            record["request_id"] = f"req-{i}"
        made.append(example_row(record, provenance, ("hf:tiny", 40 + i) if i % 4 else None))
    return made


async def stored(url: str, examples: list[dict[str, Any]], driver: bool) -> list[Any]:
    await migrate_to_head(url)
    database = Database(url)
    try:
        async with database.transaction() as session:
            if driver:
                await insert_examples(session, examples)
            else:
                await session.execute(insert(EXAMPLES), examples)
        async with database.session() as session:
            result = await session.execute(text("select * from exporter_examples order by id"))
            return [tuple(row) for row in result]
    finally:
        await database.dispose()


async def test_the_driver_insert_stores_what_a_core_insert_stores(tmp_path: Path) -> None:
    examples = rows()
    ours = await stored(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", examples, driver=True)
    core = await stored(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", examples, driver=False)
    assert len(ours) == len(examples)
    assert ours == core
