"""Stored examples keep their canonical JSON and content hashes whatever encodes them."""

import hashlib
import json
import random

import pytest

from services.exporter.examples import (
    IdSeries,
    Provenance,
    canonical_json,
    content_hashes,
    example_ids,
    example_rows,
    messages_json,
)

pytestmark = pytest.mark.unit
CHARS = [chr(i) for i in range(0x250)] + ["\u2028", "\ufeff", "\U0001f600", "\ud800", '"', "\\"]


def old_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def random_messages(rng: random.Random) -> list[dict[str, object]]:
    def text() -> str:
        return "".join(rng.choices(CHARS, k=rng.randint(0, 10)))

    messages: list[dict[str, object]] = [{"role": "user", "content": text()}]
    if rng.random() < 0.3:
        messages.append({"role": "assistant", "content": text(), "weight": rng.choice([0, 1.5e-7])})
    if rng.random() < 0.2:
        messages.append({"role": "assistant", "content": [{"type": "text", "text": text()}]})
    return messages


def test_messages_json_is_the_canonical_json_byte_for_byte() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        messages = random_messages(rng)
        text, data = messages_json(messages)
        assert text == canonical_json(messages)
        assert data == text.encode("utf-8", "surrogatepass")
    assert messages_json([{"role": "user", "content": "1e+16"}])[0] == canonical_json(
        [{"role": "user", "content": "1e+16"}]
    )


def test_content_hashes_are_those_of_the_canonical_json() -> None:
    messages = [{"role": "user", "content": "Hello  World"}, {"role": "assistant", "content": "Hi"}]
    tools = [{"type": "function", "function": {"name": "f"}}]
    exact, normalised = content_hashes(messages, tools)
    assert exact == old_digest(canonical_json(messages) + "\x1d" + canonical_json(tools))
    assert normalised == old_digest(
        "user\x1fhello world\x1eassistant\x1fhi\x1d"
        + json.dumps(tools, ensure_ascii=False, separators=(",", ":"))
    )
    folded = [{"role": "user", "content": "hello world"}, {"role": "assistant", "content": "HI"}]
    assert content_hashes(folded, tools)[1] == normalised


def test_a_batch_of_rows_shares_its_time_and_has_distinct_ids() -> None:
    records = [({"messages": [{"role": "user", "content": f"q{i}"}]}, i, None) for i in range(50)]
    rows = example_rows(records, Provenance(tenant="t"), "hf:tok")
    assert len({row["id"] for row in rows}) == 50
    assert all(len(row["id"]) == 32 for row in rows)
    assert len({row["created_at"] for row in rows}) == 1
    assert rows[3]["token_count"] == 3
    assert rows[3]["token_counter"] == "hf:tok"
    assert len(set(example_ids(1000))) == 1000


def test_an_id_series_gives_the_same_ids_each_time_in_order() -> None:
    series = IdSeries.new()
    ids = series.ids(500)
    assert series.ids(500) == ids
    assert ids == sorted(ids)
    assert len(set(ids)) == 500
    assert all(len(i) == 32 for i in ids)
    assert not set(ids) & set(IdSeries.new().ids(500))
