"""Row-level validation: one fixture file per rule, each with its bad row on line 2."""

import json
from pathlib import Path

import pytest

from services.exporter.formats import normalised_rows, resolve_format
from services.exporter.ingest import check_records
from services.exporter.tokens import ByteEstimateCounter, HuggingFaceTokenCounter
from services.exporter.validation import Rules, check_record, check_tokens

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exporter"
RULES = Rules(context_length=256)
RULE_FILES = sorted(FIXTURES.glob("*.jsonl"))
SYSTEM = {"role": "system", "content": "You are a helpful support agent."}
USER = {"role": "user", "content": "How do I reset my account password?"}
ANSWER = {"role": "assistant", "content": "Open Settings, choose Security, then Reset password."}


def problems_by_line(path: Path, counter: object) -> dict[int, list[str]]:
    container, fmt = resolve_format(path, path.name, "auto")
    rows = list(normalised_rows(path, container, fmt))
    checked = check_records(rows, RULES, counter)  # type: ignore[arg-type]
    return {c.line or 0: [p.code for p in c.verdict.errors] for c in checked}


def test_there_is_a_fixture_for_every_rule() -> None:
    assert len(RULE_FILES) == 16


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_each_rule_reports_its_code_on_its_line_only(
    path: Path, exporter_tokenizer_dir: Path
) -> None:
    found = problems_by_line(path, HuggingFaceTokenCounter(exporter_tokenizer_dir))
    assert path.stem in found[2], found
    assert found[1] == []
    assert found[3] == []


def test_problems_name_the_field_path() -> None:
    record = {"messages": [SYSTEM, {**USER, "role": "customer"}, {**ANSWER, "weight": 3}]}
    verdict = check_record(record, RULES, line=7)
    fields = {(p.code, p.field, p.line) for p in verdict.errors}
    assert ("unknown_role", "messages[1].role", 7) in fields
    assert ("invalid_weight", "messages[2].weight", 7) in fields


def test_roles_must_start_with_user_and_alternate() -> None:
    assert not check_record({"messages": [SYSTEM, ANSWER, USER, ANSWER]}, RULES).ok
    assert not check_record({"messages": [USER, ANSWER, SYSTEM, USER, ANSWER]}, RULES).ok
    assert check_record({"messages": [USER, ANSWER, USER, ANSWER]}, RULES).ok


def test_tool_calls_may_have_no_content_and_tools_follow_them() -> None:
    call = {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function"}]}
    result = {"role": "tool", "tool_call_id": "c1", "content": '{"status": "sent"}'}
    assert check_record({"messages": [SYSTEM, USER, call, result, ANSWER]}, RULES).ok


def test_missing_system_message_is_a_warning_not_an_error() -> None:
    verdict = check_record({"messages": [USER, ANSWER]}, RULES)
    assert verdict.ok
    assert [w.code for w in verdict.warnings] == ["no_system_message"]


def test_near_the_context_limit_is_a_warning() -> None:
    assert [w.code for w in check_tokens(240, RULES).warnings] == ["near_context_limit"]
    assert check_tokens(240, RULES).ok
    assert [e.code for e in check_tokens(257, RULES).errors] == ["too_many_tokens"]


def test_length_limits_are_configurable() -> None:
    short = {
        "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    }
    assert not check_record(short, RULES).ok
    assert check_record(short, Rules(min_prompt_chars=1, min_response_chars=1)).ok


def test_the_real_tokenizer_counts_template_tokens(exporter_tokenizer_dir: Path) -> None:
    counter = HuggingFaceTokenCounter(exporter_tokenizer_dir)
    conversation = [USER, ANSWER]
    rendered = counter.tokenizer.apply_chat_template(conversation, tokenize=False)
    exact = len(counter.tokenizer(rendered, add_special_tokens=False)["input_ids"])
    assert counter.count([conversation]) == [exact]
    assert ByteEstimateCounter().count([conversation])[0] > 0


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "prompt.jsonl",
            json.dumps({"prompt": USER["content"], "completion": ANSWER["content"], "rating": 5}),
        ),
        (
            "alpaca.json",
            json.dumps(
                [{"instruction": USER["content"], "input": "", "output": ANSWER["content"]}]
            ),
        ),
        (
            "alpaca.jsonl",
            json.dumps({"instruction": USER["content"], "output": ANSWER["content"]}),
        ),
        (
            "sharegpt.jsonl",
            json.dumps(
                {
                    "conversations": [
                        {"from": "human", "value": USER["content"]},
                        {"from": "gpt", "value": ANSWER["content"]},
                    ]
                }
            ),
        ),
        ("pairs.csv", f'prompt,response,rating\n"{USER["content"]}","{ANSWER["content"]}",4\n'),
    ],
)
def test_other_formats_become_chat_records(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content + "\n")
    container, fmt = resolve_format(path, name, "auto")
    [(line, record)] = list(normalised_rows(path, container, fmt))
    assert line in (1, 2)
    assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
    assert record["messages"][1]["content"] == ANSWER["content"]
    assert check_record(record, RULES).ok


def test_a_json_array_is_read_incrementally_with_line_numbers(tmp_path: Path) -> None:
    rows = [
        {"instruction": f"{USER['content']} {i}", "output": ANSWER["content"]} for i in range(5)
    ]
    path = tmp_path / "big.json"
    path.write_text("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n")
    container, fmt = resolve_format(path, path.name, "auto")
    parsed = list(normalised_rows(path, container, fmt))
    assert [line for line, _ in parsed] == [2, 3, 4, 5, 6]


def dicts(items: list[object]) -> list[dict[str, object]]:
    return [item for item in items if isinstance(item, dict)]


def mutated_records(count: int) -> list[object]:
    """Plain records and near-plain ones, each with one or two things changed."""
    import random

    rng = random.Random(5)
    values: list[object] = [
        None,
        "",
        "  ",
        "x" * 30,
        0,
        1,
        5,
        6,
        True,
        False,
        2.0,
        [],
        {},
        [1],
        {"a": 1},
    ]
    keys = ["messages", "rating", "gold_star", "tools", "metadata", "domain", "oops"]
    message_keys = ["role", "content", "name", "weight", "tool_calls", "tool_call_id", "extra"]
    roles = ["system", "user", "assistant", "tool", "narrator", None, 3]
    records: list[object] = []
    for _ in range(count):
        messages: list[object] = [dict(SYSTEM), dict(USER), dict(ANSWER)]
        if rng.random() < 0.3:
            messages = messages[1:]
        if rng.random() < 0.3:
            messages += [dict(USER), dict(ANSWER)]
        record: dict[str, object] = {"messages": messages, "rating": rng.choice([None, 1, 5])}
        for _ in range(rng.randint(0, 2)):
            kind = rng.random()
            if kind < 0.25:
                record[rng.choice(keys)] = rng.choice(values)
            elif kind < 0.5 and dicts(messages):
                message = rng.choice(dicts(messages))
                message[rng.choice(message_keys)] = rng.choice([*values, *roles])
            elif kind < 0.7 and dicts(messages):
                rng.choice(dicts(messages))["role"] = rng.choice(roles)
            elif kind < 0.8:
                rng.shuffle(messages)
            elif kind < 0.9 and messages:
                messages.pop(rng.randrange(len(messages)))
            else:
                messages.append(rng.choice(values))
        records.append(record if rng.random() < 0.97 else rng.choice(values))
    return records


@pytest.mark.parametrize("rules", [RULES, Rules(min_prompt_chars=40, min_response_chars=60)])
def test_the_shortcut_for_plain_records_agrees_with_every_rule(rules: Rules) -> None:
    from services.exporter.validation import check_every_rule

    records = mutated_records(3000)
    for line, record in enumerate(records, 1):
        assert check_record(record, rules, line) == check_every_rule(record, rules, line), record
    plain = sum(check_record(r, rules).ok for r in records)
    assert 0 < plain < len(records)


@pytest.mark.parametrize(
    "rules",
    [RULES, Rules(min_prompt_chars=40, min_response_chars=60), Rules(0, 0), Rules(500, 500)],
)
def test_a_plain_shape_judges_its_conversation_as_every_rule_does(rules: Rules) -> None:
    """The shape stored with an example stands for its messages at export: the first error
    and the warnings of every rule, under any length limits."""
    from services.exporter.validation import check_every_rule, plain_shape, shape_exclusion

    shaped = 0
    for record in mutated_records(3000):
        messages = record.get("messages") if isinstance(record, dict) else None
        shape = plain_shape(messages)
        if shape is None:
            continue
        shaped += 1
        full = check_every_rule({"messages": messages}, rules)
        first_error = full.errors[0].code if full.errors else None
        assert shape_exclusion(shape, rules) == first_error, messages
        if full.ok:
            expected = [] if shape.system_prompt else ["no_system_message"]
            assert [w.code for w in full.warnings] == expected, messages
        assert isinstance(messages, list)
        assert shape.messages == len(messages)
    assert shaped > 100


def test_only_plain_conversations_have_a_shape() -> None:
    from services.exporter.validation import plain_shape

    assert plain_shape([dict(SYSTEM), dict(USER), dict(ANSWER)]) is not None
    assert plain_shape([dict(USER)]) is None  # no answer
    assert plain_shape([dict(USER), {**ANSWER, "weight": 0}]) is None
    assert plain_shape([dict(USER), {"role": "assistant", "content": [{"text": "x"}]}]) is None
    assert plain_shape([dict(ANSWER), dict(USER)]) is None
    assert plain_shape([]) is None
    assert plain_shape("not a list") is None
