"""Receiving a multipart upload straight to a temporary file, enforcing the size limit as the
bytes arrive: the file is never held in memory, and an oversized upload stops at the limit."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

FILE_FIELD = b"file"


class UploadRefused(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class _PartState:
    destination: Path
    limit: int
    header_field: bytes = b""
    header_value: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)
    handle: BinaryIO | None = None
    filename: str | None = None
    size: int = 0

    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if options.get(b"name") == FILE_FIELD and self.handle is None:
            self.filename = options.get(b"filename", b"upload").decode("utf-8", "replace")
            self.handle = self.destination.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.handle is None or self.handle.closed:
            return
        self.size += end - start
        if self.size > self.limit:
            raise UploadRefused(
                "file_too_large",
                f"the file is larger than the limit of {self.limit:,} bytes; split it into "
                "smaller files or raise TUNELOOP_EXPORTER_UPLOAD_MAX_BYTES",
                413,
            )
        self.handle.write(data[start:end])

    def on_part_end(self) -> None:
        if self.handle is not None:
            self.handle.close()


async def receive_upload(
    content_type: str, body: AsyncIterator[bytes], destination: Path, limit: int
) -> str:
    """Write the ``file`` part of a multipart body to ``destination``; return its filename."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused(
            "not_multipart", "send the file as multipart/form-data in a field named `file`"
        )
    state = _PartState(destination, limit)
    callbacks = {name: getattr(state, name) for name in dir(state) if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    finally:
        if state.handle is not None:
            state.handle.close()
    if state.filename is None:
        raise UploadRefused("missing_file", "add the file in a multipart field named `file`")
    if state.size == 0:
        raise UploadRefused("empty_file", "the uploaded file is empty", 422)
    return state.filename


__all__ = ["UploadRefused", "receive_upload"]
