"""An export written in shards by the intake workers is the export written in the service
process: the same files byte for byte, the same counts; and when the workers cannot write
it, it is written in the service process."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from contracts.api.datasets import ExportFilters
from libs.storage import Database
from services.exporter.examples import Provenance
from services.exporter.export import ExportPlan, run_export
from services.exporter.intake import Intake, store_examples
from services.exporter.intake_workers import IntakeWorkers
from services.exporter.runtime import Exporter
from services.exporter.tokens import ByteEstimateCounter, HuggingFaceTokenCounter
from services.exporter.validation import Rules
from tests.conftest import unique_name
from tests.integration.exporter_support import example, exporter_on
from tests.integration.test_exporter_intake_workers import started_workers

pytestmark = pytest.mark.integration
RULES = Rules(min_prompt_chars=10, min_response_chars=20, context_length=512)
STORED_AS_IS = Rules(min_prompt_chars=0, min_response_chars=0, context_length=512)
"""The intake's rules: short rows are stored, for the export's rules to exclude them."""
COMPARED = ("considered", "excluded", "warnings", "splits", "lineage_sha256", "tokenizer")


def varied_examples(count: int) -> list[dict[str, Any]]:
    """Examples with exact and near duplicates, too-short answers, no system message, and
    conversations that are not plain (a tool call), in several domains."""
    examples = []
    for i in range(count):
        item = example(i % (count - 40), domain=("billing", "shipping", "returns")[i % 3])
        messages = item["messages"]
        if i % 17 == 0:
            messages[1]["content"] = messages[1]["content"].upper() + "  "
        if i % 23 == 0:
            messages[-1]["content"] = "Tomorrow."
        if i % 29 == 0:
            del messages[0]
        if i % 31 == 0:
            messages[-1:] = [
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "x"}]},
                {"role": "tool", "content": "shipped", "tool_call_id": "c"},
                {"role": "assistant", "content": "It was shipped yesterday, arriving soon."},
            ]
        examples.append(item)
    return examples


async def store_varied(database: Database, intake: Intake, tenant: str, count: int) -> None:
    examples = varied_examples(count)
    for start in range(0, count, 100):
        body = orjson.dumps({"examples": examples[start : start + 100]})
        stored = await store_examples(database, intake, body, Provenance(tenant))
        assert stored.ok, stored.prepared.checked[:3]


def plan(tenant: str, fmt: str) -> ExportPlan:
    return ExportPlan(
        tenant=tenant,
        name=unique_name("set"),
        format=fmt,
        filters=ExportFilters(min_rating=1),
        min_examples=1,
        rules=RULES,
        test_fraction=0.2,
    )


def compared(manifest: dict[str, Any]) -> dict[str, Any]:
    return {name: manifest[name] for name in COMPARED}


class CountingWorkers:
    """The workers, counting the calls made to them."""

    def __init__(self, workers: IntakeWorkers) -> None:
        self.workers = workers
        self.size = workers.size
        self.calls = 0

    async def run(self, function: Any, *args: Any) -> Any:
        self.calls += 1
        return await self.workers.run(function, *args)


@dataclass
class Stored:
    """Examples stored by started intake workers, and an exporter on their database."""

    tenant: str
    exporter: Exporter
    workers: IntakeWorkers


@asynccontextmanager
async def stored_by_workers(
    tmp_path: Path, tokenizer: Path, workers: int, examples: int
) -> AsyncIterator[Stored]:
    counter = HuggingFaceTokenCounter(tokenizer)
    tenant = unique_name("shards")
    async with started_workers(tmp_path, tokenizer, counter, workers, STORED_AS_IS) as (
        database,
        intake,
    ):
        await store_varied(database, intake, tenant, examples)
        running = intake.export_workers()
        assert running is not None
        yield Stored(tenant, exporter_on(database, tmp_path / "artifacts", tokenizer), running)


@pytest.mark.parametrize("fmt", ["openai-chat-jsonl", "sharegpt"])
async def test_an_export_written_in_shards_is_the_export_written_here(
    tmp_path: Path, exporter_tokenizer_dir: Path, fmt: str
) -> None:
    async with stored_by_workers(tmp_path, exporter_tokenizer_dir, 3, 900) as stored:
        counting = CountingWorkers(stored.workers)
        tools, tenant = stored.exporter.tools, stored.tenant

        sharded = await run_export(tools, plan(tenant, fmt), workers=counting)  # type: ignore[arg-type]
        here = await run_export(tools, plan(tenant, fmt))

        assert counting.calls == 3
        assert sharded is not None
        assert here is not None
        assert (sharded.train_sha256, sharded.test_sha256) == (here.train_sha256, here.test_sha256)
        assert compared(sharded.manifest) == compared(here.manifest)
        excluded = here.manifest["excluded"]
        assert {"duplicate", "near_duplicate", "response_too_short"} <= set(excluded)
        assert here.manifest["warnings"]["no_system_message"] > 0
        assert here.test_rows > 0


async def test_an_export_the_workers_cannot_write_is_written_here(
    tmp_path: Path, exporter_tokenizer_dir: Path
) -> None:
    """Workers that count with another tokenizer than the export, or that have stopped,
    leave the export to the service process, which writes all of it."""
    async with stored_by_workers(tmp_path, exporter_tokenizer_dir, 2, 300) as stored:
        tenant, workers = stored.tenant, stored.workers
        estimating = replace(stored.exporter.tools, counter=ByteEstimateCounter())
        other_tokenizer = await run_export(
            estimating, plan(tenant, "openai-chat-jsonl"), None, workers
        )
        reference = await run_export(estimating, plan(tenant, "openai-chat-jsonl"))
        assert other_tokenizer is not None
        assert reference is not None
        assert compared(other_tokenizer.manifest) == compared(reference.manifest)
        assert other_tokenizer.manifest["tokenizer"] == ByteEstimateCounter.name

        await workers.close()
        tools = stored.exporter.tools
        stopped = await run_export(tools, plan(tenant, "openai-chat-jsonl"), None, workers)
        here = await run_export(tools, plan(tenant, "openai-chat-jsonl"))
        assert stopped is not None
        assert here is not None
        assert compared(stopped.manifest) == compared(here.manifest)
        assert stopped.train_sha256 == here.train_sha256


async def test_an_export_does_not_start_the_workers(exporter_tokenizer_dir: Path) -> None:
    """Workers start with the first large body; until then exports are written here and
    cost no memory for worker processes."""
    counter = HuggingFaceTokenCounter(exporter_tokenizer_dir)
    intake = Intake(STORED_AS_IS, counter, exporter_tokenizer_dir, workers=2)
    try:
        assert intake.export_workers() is None
        assert intake.export_workers() is None
        assert intake.worker_pids() == []
    finally:
        await intake.close()
