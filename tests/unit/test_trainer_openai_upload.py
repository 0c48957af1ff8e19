"""The openai backend's upload of a training file, against a fake OpenAI files endpoint: the
file is sent as it is read from the artifact store (in pieces, never whole in memory), with its
length, byte for byte; a retried upload sends it whole again; a corrupt stored file fails."""

import hashlib
import tracemalloc
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from openai import AsyncOpenAI

from libs.artifacts import LocalArtifactStore
from services.trainer.openai_backend import RemoteProblem, upload_training_file

pytestmark = pytest.mark.unit
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
MIB = 1024 * 1024
SIZE = 16 * MIB


@dataclass
class FakeFiles:
    """``POST /v1/files`` as OpenAI answers it; records each upload's body pieces as they
    arrived, its declared length and the sha256 and size of the file part."""

    fail_first: bool = False
    pieces: list[list[int]] = field(default_factory=list)
    lengths: list[str | None] = field(default_factory=list)
    chunked: list[bool] = field(default_factory=list)
    files: list[tuple[str, int, str]] = field(default_factory=list)
    """(sha256, size, purpose) of each upload's file part."""

    def app(self) -> Any:
        api = FastAPI()

        @api.post("/v1/files")
        async def upload(request: Request) -> Any:
            self.lengths.append(request.headers.get("content-length"))
            self.chunked.append("chunked" in request.headers.get("transfer-encoding", ""))
            digest, size = hashlib.sha256(), 0
            async with request.form() as form:
                part = form["file"]
                filename = part.filename  # type: ignore[union-attr]
                while chunk := await part.read(64 * 1024):  # type: ignore[union-attr]
                    digest.update(chunk)
                    size += len(chunk)
                self.files.append((digest.hexdigest(), size, str(form["purpose"])))
            if self.fail_first and len(self.files) == 1:
                error = {"error": {"message": "try again", "type": "server_error"}}
                return JSONResponse(error, 500, headers={"retry-after-ms": "1"})
            return {
                "object": "file",
                "id": f"file-{len(self.files)}",
                "bytes": size,
                "created_at": 1_763_776_000,
                "filename": filename,
                "purpose": "fine-tune",
                "status": "processed",
            }

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            """The body's pieces, as the server receives them."""
            sizes: list[int] = []
            if scope["type"] == "http":
                self.pieces.append(sizes)

            async def received() -> MutableMapping[str, Any]:
                message = await receive()
                if message["type"] == "http.request":
                    sizes.append(len(message.get("body", b"")))
                return message

            await api(scope, received, send)

        return counting


def openai_client(fake: FakeFiles, max_retries: int = 0) -> AsyncOpenAI:
    transport = httpx2.ASGITransport(app=fake.app())  # the HTTP client the SDK is built on
    return AsyncOpenAI(
        api_key="sk-test",
        base_url="http://openai.test/v1",
        max_retries=max_retries,
        http_client=httpx2.AsyncClient(transport=transport, base_url="http://openai.test"),
    )


def training_file(store: LocalArtifactStore, size: int) -> tuple[str, bytes]:
    line = (
        b'{"messages": [{"role": "user", "content": "my order is late"}, '
        b'{"role": "assistant", "content": "sorry"}]}\n'
    )
    data = (line * (size // len(line) + 1))[:size]
    return store._write([data]).sha256, data


async def test_the_training_file_is_sent_as_it_is_read_and_arrives_byte_identical(
    tmp_path: Path,
) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    sha256, data = training_file(store, SIZE)
    del data
    fake = FakeFiles()
    client = openai_client(fake)
    tracemalloc.start()
    try:
        file_id = await upload_training_file(client, store, sha256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await client.close()

    assert file_id == "file-1"
    assert fake.files == [(sha256, SIZE, "fine-tune")]
    [pieces] = fake.pieces
    assert len(pieces) > 200  # in pieces, not one body
    assert max(pieces) <= 64 * 1024
    assert fake.lengths == [str(sum(pieces))]  # its length is declared, not chunked
    assert fake.chunked == [False]
    # the fake server's form parsing holds about 3 MiB, whatever the size; the file is 16 MiB
    assert peak < SIZE / 2, f"{peak / MIB:.1f} MiB held at once for a {SIZE // MIB} MiB file"


async def test_a_retried_upload_sends_the_whole_file_again(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    sha256, _ = training_file(store, 300 * 1024)
    fake = FakeFiles(fail_first=True)
    client = openai_client(fake, max_retries=1)
    try:
        assert await upload_training_file(client, store, sha256) == "file-2"
    finally:
        await client.close()
    assert fake.files == [(sha256, 300 * 1024, "fine-tune")] * 2
    assert fake.lengths[0] == fake.lengths[1] == str(sum(fake.pieces[1]))


async def test_a_corrupt_stored_file_fails_the_upload_as_corrupt(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    sha256, data = training_file(store, 200 * 1024)
    blob = store.path_of(sha256)
    blob.chmod(0o644)
    blob.write_bytes(data[:-2] + b"X\n")  # same length, one byte changed
    fake = FakeFiles()
    client = openai_client(fake)
    try:
        with pytest.raises(RemoteProblem) as failed:
            await upload_training_file(client, store, sha256)
    finally:
        await client.close()
    assert failed.value.code == "corrupt_file"
    assert f"artifact {sha256} is corrupt" in failed.value.message
    assert fake.files == []
