"""Check a job's files before it is queued: present in the artifact store, OpenAI chat JSONL.

Files are read line by line, a chunk at a time (:data:`READ_CHUNK_BYTES`), so a large training
file never sits whole in the trainer's memory; the blob's hash is checked as it is read.
"""

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libs.artifacts import ArtifactNotFound, IntegrityError, LocalArtifactStore

CHARS_PER_TOKEN = 4
READ_CHUNK_BYTES = 1024 * 1024


class FileProblem(Exception):
    def __init__(self, code: str, message: str, param: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


@dataclass(frozen=True)
class FileSummary:
    rows: int
    estimated_tokens: int


def summarize_chat_jsonl(data: bytes, param: str) -> FileSummary:
    return summarize_chat_lines(data.decode("utf-8", errors="replace").splitlines(), param)


def summarize_chat_file(path: Path, param: str) -> FileSummary:
    """Check a chat JSONL file line by line from disk (never whole in memory)."""
    with path.open(encoding="utf-8", errors="replace", newline=None) as lines:
        return summarize_chat_lines(lines, param)


def summarize_chat_lines(lines: Iterable[str], param: str) -> FileSummary:
    rows = 0
    characters = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            messages = json.loads(line)["messages"]
            assert isinstance(messages, list)
            assert messages
            assert messages[-1]["role"] == "assistant"
            characters += sum(len(str(m["content"])) for m in messages)
        except (ValueError, KeyError, TypeError, AssertionError, IndexError):
            raise FileProblem(
                "invalid_file_format",
                f'{param} line {number}: expected {{"messages": [...]}} ending with an '
                "assistant message (OpenAI chat JSONL); fix the row and export again",
                param,
            ) from None
        rows += 1
    if rows == 0:
        raise FileProblem("invalid_file_format", f"{param} has no rows", param)
    return FileSummary(rows, characters // CHARS_PER_TOKEN)


def preference_characters(row: Any) -> int:
    """Characters of a preference row (OpenAI's DPO format); raises when it is not one."""
    messages = row["input"]["messages"]
    assert isinstance(messages, list)
    assert messages
    answers = [row["preferred_output"], row["non_preferred_output"]]
    for answer in answers:
        assert isinstance(answer, list)
        assert len(answer) == 1
        assert answer[0]["role"] == "assistant"
    prompt = sum(len(str(m["content"])) for m in messages)
    return prompt + max(len(str(answer[0]["content"])) for answer in answers)


def summarize_preference_jsonl(data: bytes, param: str) -> FileSummary:
    return summarize_preference_lines(data.decode("utf-8", errors="replace").splitlines(), param)


def summarize_preference_lines(lines: Iterable[str], param: str) -> FileSummary:
    rows = 0
    characters = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            characters += preference_characters(json.loads(line))
        except (ValueError, KeyError, TypeError, AssertionError, IndexError):
            raise FileProblem(
                "invalid_file_format",
                f'{param} line {number}: expected {{"input": {{"messages": [...]}}, '
                '"preferred_output": [assistant message], "non_preferred_output": [assistant '
                "message]}} (OpenAI's preference format, for DPO jobs); export the dataset "
                "with format openai-preference-jsonl",
                param,
            ) from None
        rows += 1
    if rows == 0:
        raise FileProblem("invalid_file_format", f"{param} has no rows", param)
    return FileSummary(rows, characters // CHARS_PER_TOKEN)


def summarize_stored(
    store: LocalArtifactStore, sha256: str, param: str, method: str, chunk_bytes: int
) -> FileSummary:
    """Check a stored file line by line, ``chunk_bytes`` read at a time."""
    summarize = summarize_preference_lines if method == "dpo" else summarize_chat_lines
    with store.open_text(sha256, chunk_bytes) as lines:
        return summarize(lines, param)  # read to the end, which checks the hash


async def check_file(
    store: LocalArtifactStore,
    sha256: str,
    param: str,
    method: str = "supervised",
    chunk_bytes: int = READ_CHUNK_BYTES,
) -> FileSummary:
    try:
        return await asyncio.to_thread(summarize_stored, store, sha256, param, method, chunk_bytes)
    except ArtifactNotFound:
        raise FileProblem(
            "file_not_found",
            f"{param} {sha256} is not in the artifact store; export the dataset first or "
            "upload the file",
            param,
        ) from None
    except IntegrityError as exc:
        raise FileProblem("corrupt_file", f"{param}: {exc}", param) from None


__all__ = [
    "FileProblem",
    "FileSummary",
    "check_file",
    "summarize_chat_file",
    "summarize_chat_jsonl",
    "summarize_chat_lines",
    "summarize_preference_lines",
]
