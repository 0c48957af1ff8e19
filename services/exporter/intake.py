"""Storing a batch of examples as ``POST /v1/examples`` receives them: all, or none if any
row is invalid.

Every row is checked and counted first (:func:`check_records`), so every problem is reported;
the rows of a valid batch are then encoded, hashed and inserted in one transaction.
"""

from dataclasses import dataclass, field
from typing import Any

from libs.storage import Database
from services.exporter.examples import Provenance, example_rows, insert_examples
from services.exporter.ingest import CheckedRow, check_records
from services.exporter.tokens import TokenCounter
from services.exporter.validation import Rules


@dataclass
class StoredBatch:
    checked: list[CheckedRow]
    ids: list[str] = field(default_factory=list)
    """Ids of the stored examples in batch order; empty if the batch was refused."""

    @property
    def ok(self) -> bool:
        return all(c.verdict.ok for c in self.checked)


async def store_batch(
    database: Database,
    records: list[tuple[int | None, Any]],
    rules: Rules,
    counter: TokenCounter,
    provenance: Provenance,
) -> StoredBatch:
    """Check ``records`` and store them all in one transaction, or none of them."""
    batch = StoredBatch(check_records(records, rules, counter))
    if not batch.ok:
        return batch
    rows = example_rows(
        ((c.record, c.tokens) for c in batch.checked if c.record is not None),
        provenance,
        counter.name,
    )
    async with database.transaction() as session:
        await insert_examples(session, rows)
    batch.ids = [row["id"] for row in rows]
    return batch


__all__ = ["StoredBatch", "store_batch"]
