"""Turning a stream of stored examples into dataset files, in constant memory.

Rows arrive ordered by their normalised hash, so duplicates are adjacent: each group of
equal normalised content keeps its first valid row and counts the others as duplicates,
without remembering anything beyond the current group. The split side comes from the same
hash, so an example always lands on the same side and duplicates never straddle the split.
"""

import json
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import orjson

from services.exporter.collector import collector_paused
from services.exporter.render import PREFERENCE_FORMATS, RENDERERS
from services.exporter.stats import SplitAccumulator
from services.exporter.tokens import TokenCounter
from services.exporter.validation import (
    PlainShape,
    Rules,
    check_record,
    check_tokens,
    content_text,
    shape_exclusion,
)

HASH_SPACE = 16**15
COPY_CHUNK = 1 << 20


def loads(text: str) -> Any:
    """The value of stored JSON: orjson reads it, or ``json`` if orjson refuses it (``NaN``,
    lone surrogates, integers beyond 64 bits), so every row reads as it was written."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def is_test(normalized_hash: str, test_fraction: float) -> bool:
    """The split side of an example: a pure function of its normalised content."""
    return int(normalized_hash[:15], 16) / HASH_SPACE < test_fraction


class StoredExample(NamedTuple):
    """One stored example as an export reads it (a row of :func:`candidates.candidates`)."""

    id: str
    messages: str
    tools: str | None
    rating: int | None
    gold_star: bool
    domain: str | None
    task_type: str | None
    source: str
    owner: str | None
    content_hash: str
    normalized_hash: str
    token_count: int | None = None
    token_counter: str | None = None
    extra: dict[str, Any] | None = None
    message_count: int | None = None
    """The plain shape stored with the example (all four, or none: see ``plain_shape``)."""
    prompt_chars: int | None = None
    response_chars: int | None = None
    system_prompt: bool | None = None

    @property
    def shape(self) -> PlainShape | None:
        if self.message_count is None or self.prompt_chars is None:
            return None
        if self.response_chars is None or self.system_prompt is None:
            return None
        return PlainShape(
            self.message_count, self.prompt_chars, self.response_chars, bool(self.system_prompt)
        )

    @property
    def rejected(self) -> str | None:
        """The answer a preference pair prefers this example's answer over, if any."""
        value = (self.extra or {}).get("rejected")
        return value if isinstance(value, str) and value.strip() else None


class Admitted(NamedTuple):
    """A row the writer keeps: its record when the format needs it parsed, and its stats."""

    record: dict[str, Any] | None
    messages: int
    response_chars: int


def openai_line(row: StoredExample) -> str:
    """``to_openai`` of the row, made of its stored canonical JSON: the same text (stored
    JSON is written by ``canonical_json``, and loading and dumping it again gives it back;
    empty tools are stored as none)."""
    if row.tools and row.tools != "[]":
        return f'{{"messages":{row.messages},"tools":{row.tools}}}'
    return f'{{"messages":{row.messages}}}'


@dataclass
class WriterPart:
    """The files and counts of a writer that wrote one shard of an export."""

    paths: dict[str, Path]
    splits: dict[str, SplitAccumulator]
    excluded: Counter[str]
    warnings: Counter[str]
    considered: int


class DatasetWriter:
    """Writes ``train``/``test`` files in one format and a lineage file of every row."""

    def __init__(
        self, directory: Path, fmt: str, rules: Rules, counter: TokenCounter, test_fraction: float
    ) -> None:
        self.format = fmt
        self.render = RENDERERS[fmt]
        self.spliced = fmt == "openai-chat-jsonl"
        self.preferences = fmt in PREFERENCE_FORMATS
        self.rules = rules
        self.counter = counter
        self.test_fraction = test_fraction
        self.paths = {s: directory / f"{s}.jsonl" for s in ("train", "test", "lineage")}
        self.files: dict[str, BinaryIO] = {s: p.open("wb") for s, p in self.paths.items()}
        self.splits = {"train": SplitAccumulator(), "test": SplitAccumulator()}
        self.excluded: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self.considered = 0
        self._group = ""
        self._group_hashes: set[str] = set()
        self._group_kept = False
        self._lines: dict[str, list[str]] = {"train": [], "test": [], "lineage": []}

    def consume(self, rows: Sequence[StoredExample]) -> None:
        """Validate, de-duplicate, split and write one batch of rows."""
        with collector_paused():
            self._consume(rows)

    def _consume(self, rows: Sequence[StoredExample]) -> None:
        """Each row's lineage line is written in row order, whatever the batches are: the
        rows of an export written in shards have the lineage of one writer reading them all."""
        self.considered += len(rows)
        admit = self._admit
        decided = [(row, admit(row)) for row in rows]
        counted = [(row, a) for row, a in decided if type(a) is Admitted]
        counts = iter(self._tokens(counted))
        quiet = self.rules.context_length * self.rules.near_limit_fraction
        write = self._write
        for row, admitted in decided:
            if type(admitted) is not Admitted:
                self._exclude(row, str(admitted))
                continue
            tokens = next(counts)
            if tokens > quiet:
                limits = check_tokens(tokens, self.rules)
                if limits.errors:
                    self._exclude(row, limits.errors[0].code)
                    continue
                self.warnings.update(w.code for w in limits.warnings)
            write(row, admitted, tokens)
        self._flush()

    def _flush(self) -> None:
        for name, lines in self._lines.items():
            if lines:
                self.files[name].write("".join(lines).encode())
                lines.clear()

    def _tokens(self, candidates: list[tuple[StoredExample, Admitted]]) -> list[int]:
        """Counts stored on intake by the same tokenizer, the others counted now."""
        name = self.counter.name
        uncounted = [
            admitted.record["messages"] if admitted.record else loads(row.messages)
            for row, admitted in candidates
            if row.token_counter != name or row.token_count is None
        ]
        if not uncounted:
            return [row.token_count for row, _ in candidates]  # type: ignore[misc]
        fresh = iter(self.counter.count(uncounted))
        return [
            row.token_count
            if row.token_counter == name and row.token_count is not None
            else next(fresh)
            for row, _ in candidates
        ]

    def _admit(self, row: StoredExample) -> Admitted | str:
        """What the writer needs of the row if it is valid and the first of its content,
        else why it is excluded.

        A row stored with its plain shape is judged by the shape alone, and is parsed only
        if its format needs more than its stored JSON; any other row is parsed and goes
        through every rule."""
        if row.normalized_hash != self._group:
            self._group, self._group_kept = row.normalized_hash, False
            self._group_hashes = set()
        exact_seen = row.content_hash in self._group_hashes
        self._group_hashes.add(row.content_hash)
        if self._group_kept:
            return "duplicate" if exact_seen else "near_duplicate"
        if self.preferences and row.rejected is None:
            return "no_rejected_answer"
        shape = row.shape
        admitted = self._admit_plain(row, shape) if shape else self._admit_parsed(row)
        if type(admitted) is Admitted:
            self._group_kept = True
        return admitted

    def _admit_plain(self, row: StoredExample, shape: PlainShape) -> Admitted | str:
        exclusion = shape_exclusion(shape, self.rules)
        if exclusion is not None:
            return exclusion
        if not shape.system_prompt:
            self.warnings["no_system_message"] += 1
        record = None if self.spliced else self._record(row)
        return Admitted(record, shape.messages, shape.response_chars)

    def _admit_parsed(self, row: StoredExample) -> Admitted | str:
        record = self._record(row)
        verdict = check_record(record, self.rules)
        if not verdict.ok:
            return verdict.errors[0].code
        if verdict.warnings:
            self.warnings.update(w.code for w in verdict.warnings)
        messages = record["messages"]
        last: dict[str, Any] = next(
            (m for m in reversed(messages) if m.get("role") == "assistant"), {}
        )
        response = len((content_text(last.get("content")) or "").strip())
        return Admitted(record, len(messages), response)

    @staticmethod
    def _record(row: StoredExample) -> dict[str, Any]:
        record: dict[str, Any] = {"messages": loads(row.messages)}
        if row.tools:
            record["tools"] = loads(row.tools)
        return record

    def _exclude(self, row: StoredExample, reason: str) -> None:
        self.excluded[reason] += 1
        self._lines["lineage"].append(f'{{"id":"{row.id}","split":"excluded:{reason}"}}\n')

    def _write(self, row: StoredExample, admitted: Admitted, tokens: int) -> None:
        split = "test" if is_test(row.normalized_hash, self.test_fraction) else "train"
        if self.spliced:
            line = openai_line(row)
        else:
            assert admitted.record is not None
            example = {
                "id": row.id,
                **admitted.record,
                "rating": row.rating,
                "gold_star": row.gold_star,
                "domain": row.domain,
                "task_type": row.task_type,
                "source": row.source,
                "owner": row.owner,
            }
            if self.preferences:
                example["rejected"] = row.rejected
            line = self.render(example)
        self._lines[split].append(line + "\n")
        self._lines["lineage"].append(f'{{"id":"{row.id}","split":"{split}"}}\n')
        self.splits[split].add(
            tokens,
            admitted.messages,
            admitted.response_chars,
            row.domain,
            row.task_type,
            row.rating,
            row.gold_star,
        )

    def part(self) -> WriterPart:
        """What this writer, once closed, wrote and counted, for another writer to absorb."""
        return WriterPart(self.paths, self.splits, self.excluded, self.warnings, self.considered)

    def absorb(self, part: WriterPart) -> None:
        """Append the files of ``part`` to this writer's and add its counts: writing the rows
        of one shard of hashes, then those of the next, is writing them all in order."""
        self._flush()
        for name, handle in self.files.items():
            with part.paths[name].open("rb") as written:
                shutil.copyfileobj(written, handle, COPY_CHUNK)
        for name, split in part.splits.items():
            self.splits[name].merge(split)
        self.excluded.update(part.excluded)
        self.warnings.update(part.warnings)
        self.considered += part.considered

    @property
    def kept(self) -> int:
        return sum(split.examples for split in self.splits.values())

    def close(self) -> None:
        self._flush()
        for handle in self.files.values():
            handle.close()


__all__ = ["DatasetWriter", "StoredExample", "WriterPart", "is_test", "openai_line"]
