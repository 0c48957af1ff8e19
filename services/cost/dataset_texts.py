"""The training texts of a JSONL dataset, rendered as the trainer feeds them to the model.

Each line is one example: ``{"messages": [{"role", "content"}, ...]}`` (rendered with the
ChatML markers the shipped models' chat templates use), ``{"text": ...}``, or
``{"prompt": ..., "completion": ...}`` (preference data: ``prompt`` + ``chosen``).
"""

import json
from typing import Any

from services.cost.errors import InvalidRequest

EXPECTED = "expected `messages`, `text`, `prompt` + `completion` or `prompt` + `chosen`"


def chatml(messages: list[Any], line: int) -> str:
    parts = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise InvalidRequest(
                f"line {line}: message {index} needs a string `content`",
                field=f"messages.{index}.content",
                line=line,
            )
        parts.append(f"<|im_start|>{message.get('role', 'user')}\n{message['content']}<|im_end|>\n")
    return "".join(parts)


def render(record: Any, line: int) -> str:
    if not isinstance(record, dict):
        raise InvalidRequest(f"line {line} is not a JSON object; {EXPECTED}", line=line)
    if isinstance(record.get("messages"), list):
        return chatml(record["messages"], line)
    if isinstance(record.get("text"), str):
        return str(record["text"])
    prompt = record.get("prompt")
    answer = record.get("completion", record.get("chosen"))
    if isinstance(prompt, str) and isinstance(answer, str):
        return prompt + answer
    raise InvalidRequest(f"line {line} has no training text: {EXPECTED}", line=line)


def example_texts(data: bytes) -> list[str]:
    """One rendered text per non-empty line of a JSONL dataset."""
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"the dataset is not UTF-8 text ({exc}); export it again") from None
    texts = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidRequest(
                f"line {number} is not valid JSON ({exc.msg}); fix or re-export the dataset",
                line=number,
            ) from None
        texts.append(render(record, number))
    return texts


__all__ = ["example_texts"]
