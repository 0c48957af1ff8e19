"""Reading uploaded files row by row, never whole: JSONL, a JSON array, or CSV.

Each reader yields ``(line, value)`` where ``value`` is the parsed row or a :class:`Problem`
saying why the row could not be parsed (invalid UTF-8, not JSON).
"""

import codecs
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.exporter.validation import Problem

CHUNK = 1024 * 1024
Row = tuple[int, Any]


def parse_json_line(raw: bytes, line: int) -> Any:
    """The JSON value on one line, or the problem with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(
            "invalid_utf8",
            f"the line is not valid UTF-8 (byte {exc.start}); save the file as UTF-8",
            None,
            line,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return Problem(
            "invalid_json", f"the line is not JSON: {exc.msg} at column {exc.colno}", None, line
        )


def read_jsonl(path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            if raw.strip():
                yield number, parse_json_line(raw, number)


def read_json_array(path: Path) -> Iterator[Row]:
    """Objects of a top-level JSON array, decoded incrementally (line of each object's start)."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    buffer, line, started, finished = "", 1, False, False
    with path.open("rb") as handle:
        while not finished:
            chunk = handle.read(CHUNK)
            try:
                buffer += utf8.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                yield line, Problem("invalid_utf8", "the file is not valid UTF-8", None, line)
                return
            position = 0
            while True:
                skipped = len(buffer) - position - len(buffer[position:].lstrip(" \t\r\n,"))
                line += buffer.count("\n", position, position + skipped)
                position += skipped
                if position >= len(buffer):
                    break
                if not started:
                    if buffer[position] != "[":
                        yield (
                            line,
                            Problem(
                                "invalid_json",
                                "a .json upload must be an array of objects",
                                None,
                                line,
                            ),
                        )
                        return
                    started, position = True, position + 1
                    continue
                if buffer[position] == "]":
                    finished = True
                    break
                try:
                    value, end = decoder.raw_decode(buffer, position)
                except json.JSONDecodeError as exc:
                    if not chunk:
                        yield line, Problem("invalid_json", f"not JSON: {exc.msg}", None, line)
                        return
                    break
                yield line, value
                line += buffer.count("\n", position, end)
                position = end
            buffer = buffer[position:]
            if not chunk:
                finished = True


def read_csv(path: Path) -> Iterator[Row]:
    """Rows of a CSV with a header (``prompt,response[,rating]``), as dicts."""
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.DictReader(text)
        for row in reader:
            number = reader.line_num
            values = [v for v in row.values() if isinstance(v, str)]
            if any(_has_surrogates(v) for v in values):
                yield (
                    number,
                    Problem(
                        "invalid_utf8",
                        "the row is not valid UTF-8; save the file as UTF-8",
                        None,
                        number,
                    ),
                )
            else:
                yield number, dict(row)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def first_non_space(path: Path) -> str:
    with path.open("rb") as handle:
        while chunk := handle.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return chr(stripped[0])
    return ""


__all__ = ["Row", "first_non_space", "parse_json_line", "read_csv", "read_json_array", "read_jsonl"]
