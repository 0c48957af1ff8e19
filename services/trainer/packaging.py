"""Directories as deterministic tar archives in the artifact store, and back."""

import io
import tarfile
from pathlib import Path

from libs.artifacts import ArtifactInfo, LocalArtifactStore


def tar_bytes(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = archive.gettarinfo(str(path), arcname=str(path.relative_to(directory)))
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                archive.addfile(info, handle)
    return buffer.getvalue()


async def store_directory(store: LocalArtifactStore, directory: Path) -> ArtifactInfo:
    import asyncio

    return await store.put_bytes(await asyncio.to_thread(tar_bytes, directory))


def untar_bytes(data: bytes, destination: Path) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        archive.extractall(destination, filter="data")
    return destination


async def restore_directory(store: LocalArtifactStore, sha256: str, destination: Path) -> Path:
    import asyncio

    data = await store.get_bytes(sha256)
    return await asyncio.to_thread(untar_bytes, data, destination)


__all__ = ["restore_directory", "store_directory", "tar_bytes"]
