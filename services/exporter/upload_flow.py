"""Storing an uploaded file: strict (all rows or nothing) or lenient (the valid rows)."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from contracts.api.datasets import UploadReport
from contracts.api.errors import FieldError
from services.exporter.examples import Provenance, example_rows, insert_examples
from services.exporter.formats import resolve_format
from services.exporter.ingest import CheckedRow, ProblemLog, checked_batches
from services.exporter.runtime import Exporter
from services.exporter.validation import Problem


@dataclass
class UploadRejected(Exception):
    """A strict upload with bad rows: every problem counted, the first ones listed."""

    errors: ProblemLog
    format: str


class UploadEmpty(Exception):
    """The file parsed but held no rows."""

    def __init__(self, fmt: str) -> None:
        super().__init__(f"the {fmt} file has no rows; check that it is the right file")


def field_errors(problems: list[Problem]) -> list[FieldError]:
    return [
        FieldError(line=p.line, field=p.field, code=p.code, message=p.message) for p in problems
    ]


async def _batches(iterator: Iterator[list[CheckedRow]]) -> list[list[CheckedRow]]:
    batch = await asyncio.to_thread(next, iterator, None)
    return [] if batch is None else [batch]


async def store_upload(
    exporter: Exporter,
    path: Path,
    filename: str,
    requested_format: str,
    lenient: bool,
    provenance: Provenance,
) -> UploadReport:
    """Check every row; store the file's rows (strict) or its valid rows (lenient)."""
    container, fmt = await asyncio.to_thread(resolve_format, path, filename, requested_format)
    cap = exporter.max_reported_errors
    errors, warnings = ProblemLog(cap), ProblemLog(cap)
    accepted = await _scan(
        exporter, path, container, fmt, errors, warnings, provenance, strict=not lenient
    )
    if accepted == 0 and errors.rows == 0:
        raise UploadEmpty(fmt)
    return UploadReport(
        format=fmt,
        mode="lenient" if lenient else "strict",
        accepted=accepted,
        rejected=errors.rows,
        errors=field_errors(errors.kept),
        warnings=field_errors(warnings.kept),
        total_warnings=warnings.total,
    )


async def _scan(
    exporter: Exporter,
    path: Path,
    container: str,
    fmt: str,
    errors: ProblemLog,
    warnings: ProblemLog,
    provenance: Provenance,
    strict: bool,
) -> int:
    """One pass over the file, its valid rows stored in one transaction as they are checked.

    Strict: from the first bad row on, rows are only checked (for the report), and the
    transaction is rolled back at the end (:class:`UploadRejected`): nothing is stored.
    """
    iterator = checked_batches(path, container, fmt, exporter.rules, exporter.tools.counter)
    stored = 0
    async with exporter.tools.database.transaction() as session:
        while batches := await _batches(iterator):
            valid = _log(batches[0], errors, warnings)
            if strict and errors.total:
                continue
            rows = example_rows(
                ((c.record, c.tokens, c.verdict.shape) for c in valid if c.record is not None),
                provenance,
                exporter.tools.counter.name,
            )
            if rows:
                await insert_examples(session, rows)
                stored += len(rows)
        if strict and errors.total:
            raise UploadRejected(errors, fmt)
    return stored


def _log(batch: list[CheckedRow], errors: ProblemLog, warnings: ProblemLog) -> list[CheckedRow]:
    """Record the batch's problems; return its valid rows."""
    for checked in batch:
        errors.add(checked.verdict.errors)
        warnings.add(checked.verdict.warnings)
    return [c for c in batch if c.verdict.ok and c.record is not None]


__all__ = ["UploadEmpty", "UploadRejected", "field_errors", "store_upload"]
