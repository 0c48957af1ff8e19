"""Every output format loads with the `datasets` library, as a trainer loads it."""

import json
from pathlib import Path
from typing import Any

import pytest

from services.exporter.examples import canonical_json, content_hashes
from services.exporter.render import PREFERENCE_FORMATS, RENDERERS
from services.exporter.tokens import ByteEstimateCounter
from services.exporter.validation import Rules
from services.exporter.writer import DatasetWriter, StoredExample

pytestmark = pytest.mark.unit


def rows(count: int) -> list[StoredExample]:
    result = []
    for i in range(count):
        messages = [
            {"role": "system", "content": "You answer questions about invoices."},
            {"role": "user", "content": f"Why is invoice {i} higher than last month?"},
            {"role": "assistant", "content": f"Invoice {i} includes the annual support fee."},
        ]
        exact, normalised = content_hashes(messages, None)
        result.append(
            StoredExample(
                f"ex{i}",
                canonical_json(messages),
                None,
                5,
                False,
                "billing",
                "qa",
                "api",
                None,
                exact,
                normalised,
            )
        )
    return sorted(result, key=lambda row: row.normalized_hash)


@pytest.mark.parametrize("fmt", sorted(set(RENDERERS) - PREFERENCE_FORMATS))
def test_each_format_loads_with_the_datasets_library(tmp_path: Path, fmt: str) -> None:
    from datasets import load_dataset

    writer = DatasetWriter(tmp_path, fmt, Rules(), ByteEstimateCounter(), test_fraction=0.0)
    writer.consume(rows(12))
    writer.close()
    loaded = load_dataset(
        "json",
        data_files={"train": str(writer.paths["train"])},
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert len(loaded) == 12
    first: dict[str, Any] = loaded[0]
    written = json.loads(writer.paths["train"].read_text().splitlines()[0])
    assert {key: first[key] for key in written} == written


def test_chat_rows_render_through_the_tokenizer_chat_template(
    tmp_path: Path, exporter_tokenizer_dir: Path
) -> None:
    from datasets import load_dataset
    from transformers import AutoTokenizer

    writer = DatasetWriter(
        tmp_path, "openai-chat-jsonl", Rules(), ByteEstimateCounter(), test_fraction=0.0
    )
    writer.consume(rows(4))
    writer.close()
    loaded = load_dataset(
        "json", data_files=str(writer.paths["train"]), split="train", cache_dir=str(tmp_path / "c")
    )
    tokenizer = AutoTokenizer.from_pretrained(str(exporter_tokenizer_dir))
    text = str(tokenizer.apply_chat_template(loaded[0]["messages"], tokenize=False))
    assert text.startswith("<|im_start|>system\nYou answer questions about invoices.<|im_end|>")
