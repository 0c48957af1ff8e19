"""Reading a multipart upload as it arrives: fields kept, the file staged in chunks, every
refusal leaving nothing on disk (a real artifact store in a temporary directory)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from libs.artifacts import LocalArtifactStore
from services.trainer.uploads import UploadInvalid, UploadTooLarge, receive_upload

pytestmark = pytest.mark.unit
BOUNDARY = "b0undary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def no_problem(_: str) -> str | None:
    return None


def leftovers(store: LocalArtifactStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()]


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


async def receive(store: LocalArtifactStore, body: bytes, limit: int = 100, **extra: object):  # type: ignore[no-untyped-def]
    return await receive_upload(
        str(extra.get("content_type", CONTENT_TYPE)),
        None,
        chunks(body),
        store.stage,
        limit,
        extra.get("check_filename", no_problem),  # type: ignore[arg-type]
    )


async def test_the_file_arrives_in_pieces_and_is_stored_only_on_commit(
    store: LocalArtifactStore,
) -> None:
    data = b'{"messages": []}\n' * 5
    body = form(part("purpose", b"fine-tune"), part("file", data, "train.jsonl"))
    received = await receive(store, body)
    assert received.fields == {"purpose": "fine-tune"}
    assert received.filename == "train.jsonl"
    assert received.staged is not None
    assert received.staged.path.read_bytes() == data
    assert not store.path_of(received.staged.sha256).exists()
    info = received.staged.commit()
    received.discard()  # harmless after the commit
    assert store.path_of(info.sha256).read_bytes() == data
    assert info.size == len(data)


async def test_a_file_over_the_limit_is_refused_and_removed(store: LocalArtifactStore) -> None:
    body = form(part("purpose", b"fine-tune"), part("file", b"x" * 101, "t.jsonl"))
    with pytest.raises(UploadTooLarge):
        await receive(store, body, limit=100)
    exactly = form(part("file", b"x" * 100, "t.jsonl"))
    (await receive(store, exactly, limit=100)).discard()
    assert leftovers(store) == []


async def test_a_declared_length_that_cannot_fit_is_refused_unread(
    store: LocalArtifactStore,
) -> None:
    async def never() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read")
        yield b""  # pragma: no cover

    with pytest.raises(UploadTooLarge):
        await receive_upload(CONTENT_TYPE, str(10**9), never(), store.stage, 100, no_problem)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (form(part("file", b"a", "a.jsonl"), part("file", b"b", "b.jsonl")), "one 'file'"),
        (form(part("purpose", b"p" * 2000), part("file", b"a", "a.jsonl")), "longer than"),
        (form(part("file", b"a", "../etc/passwd")), "bad name"),
        (form(part("file", b"abc", "a.jsonl"))[:-20], "ended before its closing boundary"),
        (b"--other\r\n\r\n", "malformed"),
    ],
)
async def test_refused_forms_leave_nothing(
    store: LocalArtifactStore, body: bytes, words: str
) -> None:
    def named(name: str) -> str | None:
        return "bad name" if ".." in name else None

    with pytest.raises(UploadInvalid) as refused:
        await receive(store, body, check_filename=named)
    assert words in refused.value.message
    assert leftovers(store) == []


async def test_only_multipart_forms_are_uploads(store: LocalArtifactStore) -> None:
    with pytest.raises(UploadInvalid, match="multipart/form-data"):
        await receive(store, b"{}", content_type="application/json")
    with pytest.raises(UploadInvalid, match="multipart/form-data"):
        await receive(store, b"{}", content_type="multipart/form-data")
