"""The artifact store interface and its local-directory implementation.

A blob is written once and addressed by the sha256 of its bytes, so the same content is
stored once and a reader can verify what it got. Writes go to a temporary file in the store
and are renamed into place, so a crash never leaves a partial artifact under a valid address.
A distributed store (NATS object store, S3-compatible) implements the same protocol.
"""

import asyncio
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ArtifactNotFound(KeyError):
    pass


class IntegrityError(ValueError):
    """Stored bytes do not match their address (corruption or tampering)."""


@dataclass(frozen=True)
class ArtifactInfo:
    sha256: str
    size: int
    uri: str


class ArtifactStore(Protocol):
    async def put_file(self, path: Path) -> ArtifactInfo: ...
    async def put_bytes(self, data: bytes) -> ArtifactInfo: ...
    async def put_stream(self, chunks: Iterable[bytes]) -> ArtifactInfo: ...
    async def get_bytes(self, sha256: str) -> bytes: ...
    async def fetch_to(self, sha256: str, destination: Path) -> Path: ...
    async def exists(self, sha256: str) -> bool: ...
    async def info(self, sha256: str) -> ArtifactInfo: ...


def check_address(sha256: str) -> str:
    if not SHA256.match(sha256):
        raise ValueError(f"not a sha256 address: {sha256!r} (expected 64 lowercase hex digits)")
    return sha256


class StagedArtifact:
    """A blob being written into the store's staging directory, hashed as it is written.

    Nothing is under an address until :meth:`commit`; :meth:`discard` (safe to call again,
    or after a commit) deletes the partial file. Reading it back before the commit (to check
    it) is done from :attr:`path`.
    """

    def __init__(self, store: "LocalArtifactStore") -> None:
        self.store = store
        fd, name = tempfile.mkstemp(dir=store.root / "tmp")
        self.path = Path(name)
        self._out: BinaryIO | None = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        self.size = 0
        self.info: ArtifactInfo | None = None

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def write(self, chunk: bytes) -> None:
        if self._out is None:
            raise ValueError("the staged artifact is closed")
        self._digest.update(chunk)
        self.size += len(chunk)
        self._out.write(chunk)

    def close(self) -> None:
        """Flush to disk; no more writes."""
        if self._out is not None:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()
            self._out = None

    def commit(self) -> ArtifactInfo:
        """Move the blob under its address (kept once: the same bytes are stored once)."""
        if self.info is not None:
            return self.info
        self.close()
        final = self.store.path_of(self.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            self.path.unlink(missing_ok=True)
        else:
            os.chmod(self.path, 0o444)
            os.replace(self.path, final)
        self.info = ArtifactInfo(self.sha256, self.size, final.as_uri())
        return self.info

    def discard(self) -> None:
        """Delete what was written, unless committed."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.info is None:
            self.path.unlink(missing_ok=True)


class VerifiedReader(io.RawIOBase):
    """A blob read in pieces, hashed on the way: reading to the end raises
    :class:`IntegrityError` when the bytes do not match their address."""

    def __init__(self, handle: BinaryIO, sha256: str) -> None:
        self._handle = handle
        self._sha256 = sha256
        self._digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        count = self._handle.readinto(buffer)  # type: ignore[attr-defined]
        if not count:
            if self._digest.hexdigest() != self._sha256:
                raise IntegrityError(
                    f"artifact {self._sha256} is corrupt: its bytes hash differently"
                )
            return 0
        self._digest.update(memoryview(buffer)[:count])
        return int(count)

    def close(self) -> None:
        self._handle.close()
        super().close()


class VerifiedFile(VerifiedReader):
    """A blob as a binary file to upload: read in pieces, its size known to the reader (its
    ``fileno``), and verified each time it is read from the start to the end, however often
    it is rewound (a retried upload reads it again). Reads after seeking elsewhere than the
    start are not verified."""

    def __init__(self, handle: BinaryIO, sha256: str) -> None:
        super().__init__(handle, sha256)
        self._from_start = True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self._handle.seek(offset, whence)
        self._digest = hashlib.sha256()
        self._from_start = position == 0
        return position

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:
        return self._handle.fileno()

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        if self._from_start:
            return super().readinto(buffer)
        return int(self._handle.readinto(buffer) or 0)  # type: ignore[attr-defined]


class LocalArtifactStore:
    """Blobs under ``<root>/sha256/<first two hex>/<digest>``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        digest = check_address(sha256)
        return self.root / "sha256" / digest[:2] / digest

    def stage(self) -> StagedArtifact:
        """A new blob to write in pieces (e.g. an upload as it arrives), then commit."""
        return StagedArtifact(self)

    def _write(self, chunks: Iterable[bytes]) -> ArtifactInfo:
        staged = self.stage()
        try:
            for chunk in chunks:
                staged.write(chunk)
            return staged.commit()
        finally:
            staged.discard()

    @staticmethod
    def _file_chunks(handle: BinaryIO) -> Iterable[bytes]:
        while chunk := handle.read(CHUNK):
            yield chunk

    def _put_file(self, path: Path) -> ArtifactInfo:
        with path.open("rb") as handle:
            return self._write(self._file_chunks(handle))

    async def put_file(self, path: Path) -> ArtifactInfo:
        return await asyncio.to_thread(self._put_file, path)

    async def put_bytes(self, data: bytes) -> ArtifactInfo:
        return await asyncio.to_thread(self._write, [data])

    async def put_stream(self, chunks: Iterable[bytes]) -> ArtifactInfo:
        return await asyncio.to_thread(self._write, chunks)

    def _existing(self, sha256: str) -> Path:
        path = self.path_of(sha256)
        if not path.is_file():
            raise ArtifactNotFound(sha256)
        return path

    def _read_verified(self, sha256: str) -> bytes:
        data = self._existing(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"artifact {sha256} is corrupt: its bytes hash differently")
        return data

    async def get_bytes(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._read_verified, sha256)

    def open_text(self, sha256: str, chunk_bytes: int = CHUNK) -> io.TextIOWrapper:
        """The blob as UTF-8 text (undecodable bytes replaced), read ``chunk_bytes`` at a time
        and verified once read to the end: never whole in memory. Blocking: use it in a
        worker thread."""
        raw = VerifiedReader(self._existing(sha256).open("rb"), sha256)
        buffered = io.BufferedReader(raw, buffer_size=chunk_bytes)
        return io.TextIOWrapper(buffered, encoding="utf-8", errors="replace", newline=None)

    def open_binary(self, sha256: str) -> VerifiedFile:
        """The blob as a binary file, verified once read to the end (see :class:`VerifiedFile`):
        never whole in memory. Blocking: open and read it in a worker thread, or in pieces."""
        return VerifiedFile(self._existing(sha256).open("rb"), sha256)

    def _copy_verified(self, sha256: str, destination: Path) -> Path:
        source = self._existing(sha256)
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        partial = destination.with_name(destination.name + ".partial")
        with source.open("rb") as src, partial.open("wb") as out:
            for chunk in self._file_chunks(src):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            partial.unlink()
            raise IntegrityError(f"artifact {sha256} is corrupt: its bytes hash differently")
        os.replace(partial, destination)
        return destination

    async def fetch_to(self, sha256: str, destination: Path) -> Path:
        """Copy the blob to ``destination``, verifying its hash on the way."""
        return await asyncio.to_thread(self._copy_verified, sha256, destination)

    async def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    async def info(self, sha256: str) -> ArtifactInfo:
        path = self._existing(sha256)
        return ArtifactInfo(sha256, path.stat().st_size, path.as_uri())

    def clear_temporary(self) -> None:
        """Remove leftovers of writes interrupted by a crash."""
        shutil.rmtree(self.root / "tmp", ignore_errors=True)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)


__all__ = [
    "ArtifactInfo",
    "ArtifactNotFound",
    "ArtifactStore",
    "IntegrityError",
    "LocalArtifactStore",
    "StagedArtifact",
    "check_address",
]
