"""The local artifact store: content addressing, de-duplication, integrity, no partial files."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.artifacts import ArtifactNotFound, IntegrityError, LocalArtifactStore

pytestmark = pytest.mark.unit


async def test_put_and_get_by_sha256(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    info = await store.put_bytes(b"adapter weights")
    assert info.sha256 == hashlib.sha256(b"adapter weights").hexdigest()
    assert info.size == len(b"adapter weights")
    assert await store.get_bytes(info.sha256) == b"adapter weights"
    assert await store.exists(info.sha256)


async def test_same_content_is_stored_once(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    first = await store.put_bytes(b"x" * 10)
    second = await store.put_stream(iter([b"x" * 4, b"x" * 6]))
    assert first == second
    assert len(list((tmp_path / "sha256").rglob("*"))) == 2  # one folder, one file


async def test_put_file_streams_large_files(tmp_path: Path) -> None:
    source = tmp_path / "dataset.jsonl"
    source.write_bytes(b"{}\n" * 1_000_000)
    store = LocalArtifactStore(tmp_path / "store")
    info = await store.put_file(source)
    copy = await store.fetch_to(info.sha256, tmp_path / "copy" / "dataset.jsonl")
    assert copy.read_bytes() == source.read_bytes()


async def test_stored_artifacts_are_read_only(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    info = await store.put_bytes(b"immutable")
    assert not store.path_of(info.sha256).stat().st_mode & 0o222


async def test_corruption_is_detected(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    info = await store.put_bytes(b"original")
    path = store.path_of(info.sha256)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(IntegrityError):
        await store.get_bytes(info.sha256)
    with pytest.raises(IntegrityError):
        await store.fetch_to(info.sha256, tmp_path / "out")
    assert not (tmp_path / "out").exists()


async def test_an_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)

    def broken() -> Iterator[bytes]:
        yield b"half of it"
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        await store.put_stream(broken())
    assert list((tmp_path / "sha256").rglob("*")) == []
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_unknown_and_malformed_addresses(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    with pytest.raises(ArtifactNotFound):
        await store.get_bytes("0" * 64)
    with pytest.raises(ValueError, match="sha256"):
        await store.get_bytes("../../etc/passwd")
