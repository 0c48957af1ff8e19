"""Dataset writing: de-duplication, a stable leak-free split, and formats that read back."""

import json
from pathlib import Path
from typing import Any

import pytest

from services.exporter.examples import canonical_json, content_hashes
from services.exporter.render import PREFERENCE_FORMATS, RENDERERS, parse_line
from services.exporter.tokens import ByteEstimateCounter
from services.exporter.validation import Rules
from services.exporter.writer import DatasetWriter, StoredExample, is_test

pytestmark = pytest.mark.unit


def conversation(i: int, user: str | None = None) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You answer questions about orders."},
        {"role": "user", "content": user or f"What is the status of order {i}?"},
        {"role": "assistant", "content": f"Order {i} was shipped and arrives within two days."},
        {"role": "user", "content": "And can I change the address?"},
        {"role": "assistant", "content": "Yes, until it reaches the local depot, in Settings."},
    ]


def stored(i: int, messages: list[dict[str, Any]] | None = None, ident: str = "") -> StoredExample:
    messages = messages or conversation(i)
    exact, normalised = content_hashes(messages, None)
    return StoredExample(
        id=ident or f"ex{i}",
        messages=canonical_json(messages),
        tools=None,
        rating=5,
        gold_star=False,
        domain="orders",
        task_type="qa",
        source="api",
        owner=None,
        content_hash=exact,
        normalized_hash=normalised,
    )


def write(tmp_path: Path, rows: list[StoredExample], fmt: str = "raw-jsonl") -> DatasetWriter:
    tmp_path.mkdir(parents=True, exist_ok=True)
    writer = DatasetWriter(tmp_path, fmt, Rules(), ByteEstimateCounter(), test_fraction=0.3)
    writer.consume(sorted(rows, key=lambda r: (r.normalized_hash, r.id)))
    writer.close()
    return writer


def ids_in(path: Path) -> set[str]:
    return {json.loads(line)["id"] for line in path.read_text().splitlines()}


def test_the_same_example_always_lands_on_the_same_side(tmp_path: Path) -> None:
    rows = [stored(i) for i in range(200)]
    first = write(tmp_path / "a", rows)
    second = write(tmp_path / "b", list(reversed(rows))[:150])
    train_a, test_a = ids_in(first.paths["train"]), ids_in(first.paths["test"])
    train_b, test_b = ids_in(second.paths["train"]), ids_in(second.paths["test"])
    assert train_b <= train_a
    assert test_b <= test_a
    assert not train_a & test_a
    assert 30 <= len(test_a) <= 90


def test_duplicates_are_dropped_and_never_straddle_the_split(tmp_path: Path) -> None:
    rows = [stored(i) for i in range(50)]
    copies = [stored(i, ident=f"copy{i}") for i in range(50)]
    shouting = [
        stored(i, conversation(i, f"  WHAT is the status of   ORDER {i}? "), ident=f"loud{i}")
        for i in range(50)
    ]
    for i in range(50):
        assert is_test(rows[i].normalized_hash, 0.3) == is_test(shouting[i].normalized_hash, 0.3)
    writer = write(tmp_path, rows + copies + shouting)
    assert writer.kept == 50
    assert writer.excluded == {"duplicate": 50, "near_duplicate": 50}
    lineage = (tmp_path / "lineage.jsonl").read_text().splitlines()
    assert len(lineage) == 150


def test_invalid_rows_are_excluded_with_their_reason(tmp_path: Path) -> None:
    short = conversation(1)
    short[-1]["content"] = "Yes."
    writer = write(tmp_path, [stored(1, short), stored(2)])
    assert writer.excluded == {"response_too_short": 1}
    assert writer.kept == 1


@pytest.mark.parametrize("fmt", sorted(set(RENDERERS) - PREFERENCE_FORMATS))
def test_every_format_reads_back_to_the_same_conversation(tmp_path: Path, fmt: str) -> None:
    rows = [stored(i) for i in range(20)]
    writer = write(tmp_path, rows, fmt)
    written = writer.paths["train"].read_text().splitlines()
    written += writer.paths["test"].read_text().splitlines()
    originals = {canonical_json(_texts(conversation(i))) for i in range(20)}
    read_back = {canonical_json(parse_line(fmt, line)) for line in written}
    assert read_back == originals


def _texts(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def test_openai_rows_carry_only_what_fine_tuning_accepts(tmp_path: Path) -> None:
    writer = write(tmp_path, [stored(i) for i in range(5)], "openai-chat-jsonl")
    for line in writer.paths["train"].read_text().splitlines():
        assert set(json.loads(line)) == {"messages"}


def test_token_counts_from_intake_are_reused_only_for_the_same_tokenizer(tmp_path: Path) -> None:
    name = ByteEstimateCounter.name
    counted_here = stored(1)._replace(token_count=10**6, token_counter=name)
    counted_elsewhere = stored(2)._replace(token_count=10**6, token_counter="hf:other")
    writer = write(tmp_path, [counted_here, counted_elsewhere])
    assert writer.excluded == {"too_many_tokens": 1}
    assert ids_in(writer.paths["train"]) | ids_in(writer.paths["test"]) == {"ex2"}


def test_openai_lines_made_of_stored_json_equal_the_renderer_s() -> None:
    from services.exporter.writer import openai_line

    awkward = [
        {"role": "system", "content": 'Café — naïve 日本語 \u2028 \x00\x1f "quoted" \\ slash'},
        {"role": "user", "content": "Numbers: 1e16 -0.0 NaN", "name": "ann"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "arguments": {"x": 1e16, "y": -0.0, "z": float("nan"), "n": 2**70}}
            ],
        },
        {"role": "tool", "content": [{"type": "text", "text": "ok"}], "tool_call_id": "c1"},
    ]
    for tools in (None, [], [{"type": "function", "function": {"name": "f", "w": 0.1}}]):
        messages_json = canonical_json(awkward)
        tools_json = canonical_json(tools) if tools else None
        row = stored(1)._replace(messages=messages_json, tools=tools_json)
        record: dict[str, Any] = {"messages": json.loads(messages_json)}
        if tools_json:
            record["tools"] = json.loads(tools_json)
        assert openai_line(row) == RENDERERS["openai-chat-jsonl"](record)


def with_shape(row: StoredExample) -> StoredExample:
    """The row as intake stores it: with the plain shape of its conversation, if any."""
    from services.exporter.validation import plain_shape

    shape = plain_shape(json.loads(row.messages))
    if shape is None:
        return row
    return row._replace(
        message_count=shape.messages,
        prompt_chars=shape.prompt_chars,
        response_chars=shape.response_chars,
        system_prompt=shape.system_prompt,
    )


@pytest.mark.parametrize("fmt", ["openai-chat-jsonl", "raw-jsonl", "alpaca"])
def test_rows_with_a_stored_shape_are_written_as_parsed_ones_are(tmp_path: Path, fmt: str) -> None:
    """Judging a row by its stored shape gives the same files, exclusions, warnings and stats
    as parsing it and checking every rule."""
    short_answer, short_question = conversation(33), conversation(34, "Hi?")[:3]
    short_answer[-1]["content"] = "  Yes, today.  "
    no_system = conversation(35)[1:]
    padded = conversation(36)
    padded[2]["content"] = "   " + padded[2]["content"] + "\n\n"
    with_tool = [*conversation(37), {"role": "tool", "content": "{}", "tool_call_id": "t"}]
    conversations = [conversation(i) for i in range(30)]
    conversations += [short_answer, short_question, no_system, padded, with_tool]
    rows = [stored(i, messages, ident=f"r{i}") for i, messages in enumerate(conversations)]
    shaped = [with_shape(row) for row in rows]
    assert sum(row.shape is not None for row in shaped) == len(rows) - 1
    parsed_writer = write(tmp_path / "parsed", rows, fmt)
    shaped_writer = write(tmp_path / "shaped", shaped, fmt)
    assert shaped_writer.excluded == parsed_writer.excluded
    assert shaped_writer.excluded == {"prompt_too_short": 1, "response_too_short": 1}
    assert shaped_writer.warnings == parsed_writer.warnings
    assert shaped_writer.warnings["no_system_message"] == 1
    for split in ("train", "test"):
        assert shaped_writer.splits[split] == parsed_writer.splits[split]
    for name in ("train", "test", "lineage"):
        parsed_text = parsed_writer.paths[name].read_text()
        assert shaped_writer.paths[name].read_text() == parsed_text
