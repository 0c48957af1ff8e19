"""Checking rows before they are stored: structure, lengths and tokens, in batches.

``checked_batches`` reads an uploaded file lazily and yields small batches, so a file of any
size is checked with bounded memory; the caller decides what a bad row means (strict: refuse
the whole file; lenient: keep the good rows).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.exporter.collector import collector_paused
from services.exporter.formats import normalised_rows
from services.exporter.tokens import TokenCounter
from services.exporter.validation import Problem, Rules, Verdict, check_record, check_tokens

CHECK_BATCH = 512


@dataclass
class CheckedRow:
    line: int | None
    record: dict[str, Any] | None
    verdict: Verdict
    tokens: int | None = None


@dataclass
class ProblemLog:
    """Problems seen so far: every one counted, the first ``cap`` kept to report."""

    cap: int
    kept: list[Problem] = field(default_factory=list)
    total: int = 0
    rows: int = 0

    def add(self, problems: list[Problem]) -> None:
        if problems:
            self.rows += 1
        self.total += len(problems)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept.extend(problems[:room])


def check_records(
    rows: list[tuple[int | None, Any]], rules: Rules, counter: TokenCounter
) -> list[CheckedRow]:
    """Check a batch of parsed rows; tokens are counted for the rows that pass the rest."""
    with collector_paused():
        return _check_records(rows, rules, counter)


def _check_records(
    rows: list[tuple[int | None, Any]], rules: Rules, counter: TokenCounter
) -> list[CheckedRow]:
    checked: list[CheckedRow] = []
    for line, row in rows:
        if isinstance(row, Problem):
            checked.append(CheckedRow(line, None, Verdict(errors=[row])))
        else:
            checked.append(CheckedRow(line, row, check_record(row, rules, line)))
    countable = [c for c in checked if c.verdict.ok and c.record is not None]
    counts = counter.count([c.record["messages"] for c in countable if c.record is not None])
    quiet = rules.context_length * rules.near_limit_fraction  # at most this: nothing to say
    for row, tokens in zip(countable, counts, strict=True):
        row.tokens = tokens
        if tokens > quiet:
            limits = check_tokens(tokens, rules, row.line)
            row.verdict.errors.extend(limits.errors)
            row.verdict.warnings.extend(limits.warnings)
    return checked


def checked_batches(
    path: Path, container: str, fmt: str, rules: Rules, counter: TokenCounter
) -> Iterator[list[CheckedRow]]:
    batch: list[tuple[int | None, Any]] = []
    for line, row in normalised_rows(path, container, fmt):
        batch.append((line, row))
        if len(batch) >= CHECK_BATCH:
            yield check_records(batch, rules, counter)
            batch = []
    if batch:
        yield check_records(batch, rules, counter)


__all__ = ["CHECK_BATCH", "CheckedRow", "ProblemLog", "check_records", "checked_batches"]
