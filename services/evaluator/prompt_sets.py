"""Prompt cases from an OpenAI chat JSONL file: the last assistant message is the reference."""

import json

from pydantic import ValidationError

from contracts.api.errors import FieldError
from contracts.api.evaluations import ChatMessage, PromptCase
from services.evaluator.errors import Invalid

MAX_REPORTED_ERRORS = 20


def case_of_row(row: object) -> PromptCase:
    if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
        raise ValueError("each line must be an object with a `messages` list")
    messages = [ChatMessage.model_validate(m) for m in row["messages"]]
    reference = None
    if messages and messages[-1].role == "assistant":
        reference = messages[-1].content
        messages = messages[:-1]
    if not messages:
        raise ValueError("a row needs at least one message before the reference answer")
    return PromptCase(messages=messages, reference=reference)


def cases_from_jsonl(data: bytes, split: str | None) -> list[PromptCase]:
    """Every row of ``split`` (rows without a split count); every bad line is reported."""
    cases: list[PromptCase] = []
    errors: list[FieldError] = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if split is not None and isinstance(row, dict) and row.get("split", split) != split:
                continue
            cases.append(case_of_row(row))
        except (ValueError, ValidationError) as exc:
            errors.append(
                FieldError(line=number, field="messages", code="invalid_row", message=str(exc))
            )
    if errors:
        raise Invalid(
            f"{len(errors)} line(s) of the dataset are not OpenAI chat rows; fix them and "
            "upload the file again",
            errors[:MAX_REPORTED_ERRORS],
        )
    if not cases:
        raise Invalid(f"the dataset has no rows in split {split!r}; choose another `split`")
    return cases


__all__ = ["cases_from_jsonl"]
