"""Output formats of a dataset, one JSON object per line, and the parsers that read them back.

- ``openai-chat-jsonl``: ``{"messages": [...], "tools": [...]}`` as OpenAI fine-tuning takes it
- ``chatml``: ``{"text": "<|im_start|>user\\n...<|im_end|>\\n..."}``
- ``alpaca``: ``{"instruction", "input", "output", "system", "history": [[user, assistant]]}``
- ``sharegpt``: ``{"conversations": [{"from": "human", "value": ...}], "system"}``
- ``raw-jsonl``: the example with its id, rating and provenance
- ``openai-preference-jsonl``: ``{"input": {"messages": [...]}, "preferred_output": [...],
  "non_preferred_output": [...]}`` as OpenAI's DPO fine-tuning takes it; only examples with a
  rejected answer (``metadata.rejected``, set on corrections of served answers) have one
"""

import json
from collections.abc import Callable
from typing import Any

from services.exporter.validation import content_text

Example = dict[str, Any]
TO_SHAREGPT = {"user": "human", "assistant": "gpt", "system": "system", "tool": "tool"}
FROM_SHAREGPT = {value: key for key, value in TO_SHAREGPT.items()}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(message: dict[str, Any]) -> str:
    return content_text(message.get("content")) or ""


def to_openai(example: Example) -> str:
    body: dict[str, Any] = {"messages": example["messages"]}
    if example.get("tools"):
        body["tools"] = example["tools"]
    return _dumps(body)


def to_chatml(example: Example) -> str:
    text = "".join(f"<|im_start|>{m['role']}\n{_text(m)}<|im_end|>\n" for m in example["messages"])
    return _dumps({"text": text})


def to_alpaca(example: Example) -> str:
    messages = example["messages"]
    system = "\n".join(_text(m) for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    pairs = [(_text(turns[i]), _text(turns[i + 1])) for i in range(0, len(turns) - 1, 2)]
    *history, (instruction, output) = pairs
    body = {"instruction": instruction, "input": "", "output": output, "system": system}
    return _dumps({**body, "history": [list(pair) for pair in history]})


def to_sharegpt(example: Example) -> str:
    turns = [{"from": TO_SHAREGPT[m["role"]], "value": _text(m)} for m in example["messages"]]
    body: dict[str, Any] = {"conversations": turns}
    if example.get("tools"):
        body["tools"] = _dumps(example["tools"])
    return _dumps(body)


def to_raw(example: Example) -> str:
    return _dumps(example)


def to_openai_preference(example: Example) -> str:
    messages = example["messages"]
    body: dict[str, Any] = {
        "input": {"messages": messages[:-1]},
        "preferred_output": [messages[-1]],
        "non_preferred_output": [{"role": "assistant", "content": example["rejected"]}],
    }
    if example.get("tools"):
        body["input"]["tools"] = example["tools"]
    return _dumps(body)


RENDERERS: dict[str, Callable[[Example], str]] = {
    "openai-chat-jsonl": to_openai,
    "chatml": to_chatml,
    "alpaca": to_alpaca,
    "sharegpt": to_sharegpt,
    "raw-jsonl": to_raw,
    "openai-preference-jsonl": to_openai_preference,
}
PREFERENCE_FORMATS = frozenset({"openai-preference-jsonl"})


def _chatml_messages(text: str) -> list[dict[str, Any]]:
    messages = []
    for block in text.split("<|im_end|>\n"):
        if block.startswith("<|im_start|>"):
            role, _, content = block.removeprefix("<|im_start|>").partition("\n")
            messages.append({"role": role, "content": content})
    return messages


def _alpaca_messages(row: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if row.get("system"):
        messages.append({"role": "system", "content": row["system"]})
    for user, assistant in row.get("history", []):
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    prompt = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
    messages += [
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": row["output"]},
    ]
    return messages


def parse_line(fmt: str, line: str) -> list[dict[str, Any]]:
    """The conversation (role and text of each message) one rendered line holds."""
    row = json.loads(line)
    if fmt == "chatml":
        return _chatml_messages(row["text"])
    if fmt == "alpaca":
        return _alpaca_messages(row)
    if fmt == "openai-preference-jsonl":
        return [
            {"role": m["role"], "content": _text(m)}
            for m in row["input"]["messages"] + row["preferred_output"]
        ]
    if fmt == "sharegpt":
        return [
            {"role": FROM_SHAREGPT[t["from"]], "content": t["value"]} for t in row["conversations"]
        ]
    return [{"role": m["role"], "content": _text(m)} for m in row["messages"]]


__all__ = ["PREFERENCE_FORMATS", "RENDERERS", "parse_line"]
