"""The intake validates examples bodies into dicts with rules derived from the contract: it
accepts and refuses exactly what the contract's models do, and yields the same records."""

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from contracts.api.datasets import ExampleBatch, ExampleIn
from services.exporter.intake import BODY_AS_DICTS, EXAMPLES_BODY, example_record

pytestmark = pytest.mark.unit

USER = {"role": "user", "content": "Where is my parcel? It has been a week."}
ANSWER = {"role": "assistant", "content": "It left the depot today and arrives tomorrow."}
VALID: list[Any] = [
    {"messages": [USER, ANSWER]},
    {"examples": [{"messages": [USER, ANSWER], "rating": 5, "gold_star": True}]},
    {"messages": [{"content": USER["content"], "role": "user"}, ANSWER], "system": "Be brief."},
    {"messages": [USER, {**ANSWER, "weight": 0, "name": "bot"}], "domain": "support"},
    {
        "messages": [
            USER,
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "x"}]},
            {"role": "tool", "content": "shipped", "tool_call_id": "c1"},
            ANSWER,
        ],
        "tools": [{"type": "function", "function": {"name": "track"}}],
        "metadata": {"ticket": 12, "tags": ["a"]},
        "rating": None,
        "owner": "ops",
        "source": "crm",
        "request_id": "req-1",
        "task_type": "triage",
    },
    {"examples": [{"messages": [USER, ANSWER]}, {"messages": [ANSWER], "system": ""}]},
]
INVALID: list[Any] = [
    {"messages": []},
    {"examples": []},
    {"examples": [{"messages": [USER], "rating": 9}]},
    {"examples": [{"messages": [USER], "rating": "five"}]},
    {"messages": [{"role": "robot", "content": "hi"}]},
    {"messages": [{"role": "user", "content": 3}]},
    {"messages": [{"role": "user", "content": "hi", "weight": 2}]},
    {"messages": [USER], "metadata": []},
    {"messages": [USER], "unknown": 1},
    {"messages": [{**USER, "extra": True}]},
    {"messages": [USER], "domain": "d" * 129},
    {"messages": [USER], "gold_star": "maybe"},
    {"messages": [USER], "tools": {"type": "function"}},
    {"examples": [{"messages": [USER]}] * 10_001},
    {"examples": [{"messages": [USER, ANSWER]}], "messages": [USER, ANSWER]},
    {"examples": [{"messages": [USER, ANSWER]}], "rating": 5},
    [USER],
    "text",
    None,
]


def model_record(example: ExampleIn) -> dict[str, Any]:
    """What the contract's models give for an example (the reference)."""
    record = example.model_dump(exclude_none=True, exclude={"system", "messages"})
    messages = [m.model_dump(exclude_none=True) for m in example.messages]
    if example.system:
        messages.insert(0, {"role": "system", "content": example.system})
    if not record.get("metadata"):
        record.pop("metadata", None)
    return {**record, "messages": messages}


def model_records(body: bytes) -> list[dict[str, Any]]:
    parsed = EXAMPLES_BODY.validate_json(body)
    examples = parsed.examples if isinstance(parsed, ExampleBatch) else [parsed]
    return [model_record(example) for example in examples]


def dict_records(body: bytes) -> list[dict[str, Any]]:
    parsed = BODY_AS_DICTS.validate_json(body)
    examples = parsed.get("examples", [parsed])
    return [example_record(example) for example in examples]


def errors(validate: Any, body: bytes) -> list[tuple[Any, ...]]:
    """Each error's place, code and message; a non-object where an example is expected is
    ``dict_type`` for one and ``model_type`` for the other, with the same message."""
    with pytest.raises(ValidationError) as raised:
        validate(body)
    kind = {"model_type": "dict_type"}
    return [(e["loc"], kind.get(e["type"], e["type"]), e["msg"]) for e in raised.value.errors()]


@pytest.mark.parametrize("body", VALID, ids=range(len(VALID)))
def test_valid_bodies_give_the_records_the_models_give(body: Any) -> None:
    data = orjson.dumps(body)
    records = dict_records(data)
    assert records == model_records(data)
    # message keys in the contract's order, whatever order the client wrote them in
    assert [list(m) for m in records[0]["messages"]] == [
        list(m) for m in model_records(data)[0]["messages"]
    ]


@pytest.mark.parametrize("body", INVALID, ids=range(len(INVALID)))
def test_invalid_bodies_are_refused_with_the_models_errors(body: Any) -> None:
    data = orjson.dumps(body)
    assert errors(BODY_AS_DICTS.validate_json, data) == errors(EXAMPLES_BODY.validate_json, data)


def test_malformed_json_is_refused_the_same_way() -> None:
    data = b'{"messages": [ {"role": "user",'
    assert errors(BODY_AS_DICTS.validate_json, data) == errors(EXAMPLES_BODY.validate_json, data)


def test_every_field_of_the_contract_is_checked() -> None:
    derived = BODY_AS_DICTS.json_schema()
    names = {name for definition in derived["$defs"].values() for name in definition["properties"]}
    expected = {*ExampleIn.model_fields, *ExampleBatch.model_fields}
    assert expected <= names
