"""A ``multipart/form-data`` upload read as it arrives: the file streamed in chunks into the
artifact store's staging area (never whole in memory), refused as soon as it passes the size
limit (its partial file deleted), small text fields kept aside.

The caller checks the staged file from disk, then commits it to the store or discards it.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from libs.artifacts import StagedArtifact

MAX_FIELD_BYTES = 1024
FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for the boundaries, part headers and text fields around the file itself."""


class UploadTooLarge(Exception):
    """The file is larger than the limit; nothing of it is kept."""


class UploadInvalid(Exception):
    """The request is not a usable upload; the message says why."""

    def __init__(
        self, message: str, param: str | None = None, code: str = "invalid_upload"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


@dataclass
class ReceivedUpload:
    """The form's text fields and its file, staged (``None`` when the form had no file)."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    staged: StagedArtifact | None = None

    def discard(self) -> None:
        if self.staged is not None:
            self.staged.discard()


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_field: bytes = b""
    header_value: bytes = b""
    value: bytearray = field(default_factory=bytearray)


class _Reader:
    """python-multipart's callbacks: file data queued for the disk, fields collected."""

    def __init__(
        self,
        stage: Callable[[], StagedArtifact],
        max_file_bytes: int,
        file_field: str,
        check_filename: Callable[[str], str | None],
    ) -> None:
        self.stage = stage
        self.max_file_bytes = max_file_bytes
        self.file_field = file_field
        self.check_filename = check_filename
        self.upload = ReceivedUpload()
        self.part = _Part()
        self.pending: list[bytes] = []
        self.file_bytes = 0
        self.ended = False

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self.part = _Part()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def header_end(self) -> None:
        self.part.headers[self.part.header_field.lower()] = self.part.header_value
        self.part.header_field = self.part.header_value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self.part.filename = None if filename is None else filename.decode("utf-8", "replace")
        if self.part.name != self.file_field:
            return
        if self.upload.staged is not None:
            raise UploadInvalid(f"send one {self.file_field!r} per upload", self.file_field)
        name = self.part.filename or "upload.jsonl"
        if (problem := self.check_filename(name)) is not None:
            raise UploadInvalid(problem, self.file_field, "invalid_file_name")
        self.upload.filename = name
        self.upload.staged = self.stage()

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.name == self.file_field:
            self.file_bytes += end - start
            if self.file_bytes > self.max_file_bytes:
                raise UploadTooLarge
            self.pending.append(data[start:end])
            return
        self.part.value += data[start:end]
        if len(self.part.value) > MAX_FIELD_BYTES:
            raise UploadInvalid(
                f"the form field {self.part.name!r} is longer than {MAX_FIELD_BYTES} bytes",
                self.part.name,
            )

    def part_end(self) -> None:
        if self.part.name and self.part.name != self.file_field:
            self.upload.fields[self.part.name] = self.part.value.decode("utf-8", "replace")

    def end(self) -> None:
        self.ended = True

    def write_pending(self) -> None:
        """In a worker thread: the file data received so far, onto the disk."""
        staged = self.upload.staged
        pieces, self.pending = self.pending, []
        if staged is not None:
            for piece in pieces:
                staged.write(piece)


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise UploadInvalid(
            "send the upload as multipart/form-data with the fields `file` and `purpose` "
            "(the OpenAI SDK's files.create does)"
        )
    return options[b"boundary"]


async def receive_upload(
    content_type: str,
    content_length: str | None,
    body: AsyncIterator[bytes],
    stage: Callable[[], StagedArtifact],
    max_file_bytes: int,
    check_filename: Callable[[str], str | None],
    file_field: str = "file",
) -> ReceivedUpload:
    """Read the form as it arrives. Raises :class:`UploadTooLarge` as soon as the file passes
    ``max_file_bytes`` (or when the declared length cannot fit) and :class:`UploadInvalid`;
    either way nothing stays on disk. The caller owns the returned staged file."""
    boundary = boundary_of(content_type)
    declared = int(content_length) if content_length and content_length.isdigit() else 0
    if declared > max_file_bytes + FORM_OVERHEAD_BYTES:
        raise UploadTooLarge
    reader = _Reader(stage, max_file_bytes, file_field, check_filename)
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
            if reader.pending:
                await asyncio.to_thread(reader.write_pending)
        parser.finalize()
        if not reader.ended:
            raise UploadInvalid("the form ended before its closing boundary (cut short?)")
        if reader.upload.staged is not None:
            await asyncio.to_thread(reader.upload.staged.close)
    except MultipartParseError as exc:
        reader.upload.discard()
        raise UploadInvalid(f"the multipart form is malformed: {exc}") from None
    except BaseException:
        reader.upload.discard()
        raise
    return reader.upload


__all__ = ["ReceivedUpload", "UploadInvalid", "UploadTooLarge", "receive_upload"]
