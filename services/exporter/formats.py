"""Upload formats: detection, and normalisation of every row to an OpenAI chat record.

Prompt/completion, Alpaca, ShareGPT and CSV rows become ``{"messages": [...], ...}`` so one
set of validation rules applies to all of them; keys a format does not know are kept, so the
validator reports them as unknown.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from services.exporter.readers import Row, first_non_space, read_csv, read_json_array, read_jsonl
from services.exporter.validation import Problem

SHAREGPT_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bing": "assistant",
    "tool": "tool",
}
Normaliser = Callable[[dict[str, Any], int], dict[str, Any] | Problem]


def _missing(field: str, line: int, hint: str) -> Problem:
    return Problem("missing_field", f"add `{field}`: {hint}", field, line)


def _text_field(row: dict[str, Any], name: str, line: int) -> str | Problem:
    value = row.get(name)
    if value is None:
        return _missing(name, line, "the row needs it")
    if not isinstance(value, str):
        return Problem("invalid_field", f"`{name}` must be text", name, line)
    return value


def _rest(row: dict[str, Any], *consumed: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in consumed}


def from_openai(row: dict[str, Any], line: int) -> dict[str, Any] | Problem:
    return row


def from_prompt_completion(row: dict[str, Any], line: int) -> dict[str, Any] | Problem:
    prompt = _text_field(row, "prompt", line)
    completion = _text_field(row, "completion", line)
    for value in (prompt, completion):
        if isinstance(value, Problem):
            return value
    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
    return {"messages": messages, **_rest(row, "prompt", "completion")}


def from_alpaca(row: dict[str, Any], line: int) -> dict[str, Any] | Problem:
    instruction = _text_field(row, "instruction", line)
    output = _text_field(row, "output", line)
    for value in (instruction, output):
        if isinstance(value, Problem):
            return value
    extra_input = row.get("input") or ""
    prompt = f"{instruction}\n\n{extra_input}" if extra_input else str(instruction)
    messages: list[dict[str, Any]] = []
    if row.get("system"):
        messages.append({"role": "system", "content": row["system"]})
    messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}]
    return {"messages": messages, **_rest(row, "instruction", "input", "output", "system")}


def from_sharegpt(row: dict[str, Any], line: int) -> dict[str, Any] | Problem:
    turns = row.get("conversations")
    if not isinstance(turns, list):
        return _missing("conversations", line, "a list of {from, value} turns")
    messages: list[dict[str, Any]] = []
    if row.get("system"):
        messages.append({"role": "system", "content": row["system"]})
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or "from" not in turn or "value" not in turn:
            return Problem(
                "invalid_turn",
                "each turn needs `from` and `value`",
                f"conversations[{index}]",
                line,
            )
        role = SHAREGPT_ROLES.get(str(turn["from"]).lower(), str(turn["from"]))
        messages.append({"role": role, "content": turn["value"]})
    return {"messages": messages, **_rest(row, "conversations", "system")}


def from_csv(row: dict[str, Any], line: int) -> dict[str, Any] | Problem:
    normalised = from_prompt_completion(
        {"prompt": row.get("prompt"), "completion": row.get("response")}, line
    )
    if isinstance(normalised, Problem):
        field = "response" if normalised.field == "completion" else normalised.field
        return Problem(normalised.code, f"add a `{field}` column value", field, line)
    rating = (row.get("rating") or "").strip()
    if rating:
        try:
            normalised["rating"] = int(rating)
        except ValueError:
            return Problem("invalid_rating", f"rating must be 1-5, got {rating!r}", "rating", line)
    extra = {k: v for k, v in row.items() if k not in ("prompt", "response", "rating")}
    return {**normalised, **extra}


NORMALISERS: dict[str, Normaliser] = {
    "openai-chat": from_openai,
    "prompt-completion": from_prompt_completion,
    "alpaca": from_alpaca,
    "sharegpt": from_sharegpt,
    "csv": from_csv,
}


def detect_container(path: Path, filename: str) -> str:
    """``csv``, ``json-array`` or ``jsonl``."""
    if filename.lower().endswith(".csv"):
        return "csv"
    return "json-array" if first_non_space(path) == "[" else "jsonl"


def detect_format(row: Any) -> str:
    """The format of a parsed JSON row, by its keys (OpenAI chat when unsure)."""
    if isinstance(row, dict):
        if "conversations" in row:
            return "sharegpt"
        if "instruction" in row:
            return "alpaca"
        if "prompt" in row and "completion" in row:
            return "prompt-completion"
    return "openai-chat"


def read_rows(path: Path, container: str) -> Iterator[Row]:
    if container == "csv":
        return read_csv(path)
    if container == "json-array":
        return read_json_array(path)
    return read_jsonl(path)


def resolve_format(path: Path, filename: str, requested: str) -> tuple[str, str]:
    """(container, format): the requested format, or the one the first row shows."""
    container = detect_container(path, filename)
    if requested != "auto":
        return container, requested
    if container == "csv":
        return container, "csv"
    for _, row in read_rows(path, container):
        if not isinstance(row, Problem):
            return container, detect_format(row)
    return container, "openai-chat"


def normalised_rows(path: Path, container: str, fmt: str) -> Iterator[Row]:
    """Every row as an OpenAI chat record, or the problem that stopped it becoming one."""
    normalise = NORMALISERS[fmt]
    for line, row in read_rows(path, container):
        if isinstance(row, Problem) or not isinstance(row, dict) or fmt == "openai-chat":
            yield line, row
        else:
            yield line, normalise(row, line)


__all__ = ["NORMALISERS", "detect_format", "normalised_rows", "resolve_format"]
