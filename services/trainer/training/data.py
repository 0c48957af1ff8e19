"""Read OpenAI chat JSONL into prompt/completion rows and check them against the tokenizer."""

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.trainer.training.errors import TrainingError

MAX_LISTED_LINES = 5


def as_prompt_completion(line_number: int, row: Any) -> dict[str, list[dict[str, str]]]:
    """Split a chat into the conversation so far and the final assistant reply."""
    messages = row.get("messages") if isinstance(row, dict) else None
    if not isinstance(messages, list) or len(messages) < 2:
        raise TrainingError(
            "invalid_training_file",
            f"line {line_number}: expected {{'messages': [...]}} with at least two messages",
            "training_file",
        )
    if not isinstance(messages[-1], dict) or messages[-1].get("role") != "assistant":
        raise TrainingError(
            "invalid_training_file",
            f"line {line_number}: the last message must be the assistant's reply to learn",
            "training_file",
        )
    clean = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
    return {"prompt": clean[:-1], "completion": clean[-1:]}


def _assistant_output(line_number: int, value: Any, field: str) -> list[dict[str, str]]:
    if (
        not isinstance(value, list)
        or len(value) != 1
        or not isinstance(value[0], dict)
        or value[0].get("role") != "assistant"
    ):
        raise TrainingError(
            "invalid_training_file",
            f"line {line_number}: `{field}` must be a list of one assistant message",
            "training_file",
        )
    return [{"role": "assistant", "content": str(value[0].get("content", ""))}]


def as_preference(line_number: int, row: Any) -> dict[str, list[dict[str, str]]]:
    """OpenAI's preference row (``input.messages``, ``preferred_output``,
    ``non_preferred_output``) as TRL's prompt/chosen/rejected."""
    source = row.get("input") if isinstance(row, dict) else None
    messages = source.get("messages") if isinstance(source, dict) else None
    if not isinstance(messages, list) or not messages:
        raise TrainingError(
            "invalid_training_file",
            f"line {line_number}: a DPO row needs {{'input': {{'messages': [...]}}, "
            "'preferred_output': [...], 'non_preferred_output': [...]}} (OpenAI's preference "
            "format); export the dataset with format openai-preference-jsonl",
            "training_file",
        )
    prompt = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
    return {
        "prompt": prompt,
        "chosen": _assistant_output(line_number, row.get("preferred_output"), "preferred_output"),
        "rejected": _assistant_output(
            line_number, row.get("non_preferred_output"), "non_preferred_output"
        ),
    }


def read_rows(path: Path, method: str) -> list[dict[str, list[dict[str, str]]]]:
    """Prompt/completion rows for supervised jobs, prompt/chosen/rejected rows for DPO."""
    return read_chat_rows(path, as_preference if method == "dpo" else as_prompt_completion)


def read_chat_rows(
    path: Path, parse: Callable[[int, Any], dict[str, list[dict[str, str]]]] = as_prompt_completion
) -> list[dict[str, list[dict[str, str]]]]:
    """The file's rows, read line by line (the file's text is never whole in memory)."""
    rows = []
    with path.open(encoding="utf-8", newline=None) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TrainingError(
                    "invalid_training_file",
                    f"line {number}: not JSON ({exc.msg})",
                    "training_file",
                ) from None
            rows.append(parse(number, row))
    if not rows:
        raise TrainingError(
            "invalid_training_file", "the training file has no rows", "training_file"
        )
    return rows


def split_validation(
    rows: list[dict[str, Any]], share: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if share <= 0:
        return rows, []
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    held = max(1, round(len(rows) * share))
    return shuffled[held:], shuffled[:held]


def _chat_length(tokenizer: Any, messages: list[dict[str, str]]) -> int:
    ids = tokenizer.apply_chat_template(messages, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return len(ids)


def token_lengths(tokenizer: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Tokens of each row; a preference row counts its longer answer."""
    return [
        max(
            _chat_length(tokenizer, row["prompt"] + row[answer])
            for answer in ("completion", "chosen", "rejected")
            if answer in row
        )
        for row in rows
    ]


def check_lengths(lengths: list[int], limit: int, file_param: str) -> None:
    """Fail with the offending rows when any row is longer than the context allows."""
    too_long = [(i + 1, n) for i, n in enumerate(lengths) if n > limit]
    if too_long:
        listed = ", ".join(f"row {row} has {n}" for row, n in too_long[:MAX_LISTED_LINES])
        raise TrainingError(
            "row_too_long",
            f"{len(too_long)} row(s) are longer than max_seq_length={limit} tokens ({listed}); "
            "shorten or drop them, or raise max_seq_length up to the model's context",
            file_param,
        )


__all__ = [
    "as_preference",
    "check_lengths",
    "read_chat_rows",
    "read_rows",
    "split_validation",
    "token_lengths",
]
