"""The trainer's OpenAI-shaped Files API and tenant scoping of files and jobs."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from libs.messaging import Subjects
from tests.integration.trainer_harness import running_trainer, trainer_settings
from tests.polling import eventually
from tests.support.identity import as_gateway

pytestmark = pytest.mark.integration

ROW = {
    "messages": [
        {"role": "user", "content": "ping"},
        {"role": "assistant", "content": "pong"},
    ]
}
TRAIN = (json.dumps(ROW) + "\n") * 3


def tenant(name: str) -> dict[str, str]:
    return {"X-Tuneloop-Tenant": name}


async def upload(
    client: httpx.AsyncClient,
    name: str,
    data: str,
    purpose: str = "fine-tune",
    as_tenant: str = "default",
) -> httpx.Response:
    return await client.post(
        "/v1/files",
        headers=tenant(as_tenant),
        files={"file": (name, data, "application/jsonl")},
        data={"purpose": purpose},
    )


async def test_files_belong_to_their_tenant_and_bad_uploads_are_refused(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    settings = trainer_settings(tmp_path, nats_url, subjects, database_url, max_file_bytes=4096)
    async with running_trainer(settings) as service:
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=as_gateway()
        ) as client:
            created = await upload(client, "t.jsonl", TRAIN, as_tenant="acme")
            assert created.status_code == 200, created.text
            file = created.json()
            same = await upload(client, "t.jsonl", TRAIN, as_tenant="acme")
            acme_list = (await client.get("/v1/files", headers=tenant("acme"))).json()
            globex_list = (await client.get("/v1/files", headers=tenant("globex"))).json()
            content = await client.get(f"/v1/files/{file['id']}/content", headers=tenant("acme"))
            other = await client.get(f"/v1/files/{file['id']}", headers=tenant("globex"))
            other_content = await client.get(
                f"/v1/files/{file['id']}/content", headers=tenant("globex")
            )
            other_delete = await client.delete(f"/v1/files/{file['id']}", headers=tenant("globex"))
            path_like = await upload(client, "../../etc/passwd", TRAIN)
            nested = await upload(client, "a/b.jsonl", TRAIN)
            bad_rows = await upload(client, "bad.jsonl", TRAIN + "not json\n")
            too_big = await upload(client, "big.jsonl", TRAIN * 100)
            wrong_purpose = await upload(client, "t.jsonl", TRAIN, purpose="assistants")
            deleted = await client.delete(f"/v1/files/{file['id']}", headers=tenant("acme"))
            gone = await client.get(f"/v1/files/{file['id']}", headers=tenant("acme"))
    assert file["object"] == "file"
    assert file["id"].startswith("file-")
    assert file["bytes"] == len(TRAIN)
    assert file["purpose"] == "fine-tune"
    assert same.json()["id"] == file["id"]
    assert [f["id"] for f in acme_list["data"]] == [file["id"]]
    assert globex_list["data"] == []
    assert content.text == TRAIN
    for response in (other, other_content, other_delete, gone):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "file_not_found"
    for response in (path_like, nested):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_file_name"
    assert bad_rows.status_code == 400
    assert "line 4" in bad_rows.json()["error"]["message"]
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "file_too_large"
    assert wrong_purpose.status_code == 400
    assert deleted.json() == {"object": "file", "id": file["id"], "deleted": True}
    artifacts = tmp_path / "artifacts"
    assert list((artifacts / "tmp").iterdir()) == []  # nothing half-written
    assert [p.name for p in (artifacts / "sha256").rglob("*") if p.is_file()] == [file["sha256"]]


class Body:
    """A form sent in small chunks without a declared length, counting what was read."""

    def __init__(self, head: bytes, chunk: bytes, chunks: int, tail: bytes) -> None:
        self.parts = [head, *([chunk] * chunks), tail]
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            self.sent += 1
            yield part


def form(boundary: str, purpose: str, filename: str) -> tuple[bytes, bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/jsonl\r\n\r\n'
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


async def test_an_upload_streams_to_disk_and_stops_at_the_limit(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    """A 10 MB upload against a 64 KiB limit: refused after reading little more than the
    limit, nothing left on disk; one under the limit, in many chunks, is stored whole."""
    limit = 64 * 1024
    settings = trainer_settings(tmp_path, nats_url, subjects, database_url, max_file_bytes=limit)
    boundary = "tuneloop-test-boundary"
    head, tail = form(boundary, "fine-tune", "big.jsonl")
    line = (json.dumps(ROW) + "\n").encode()
    oversized = Body(head, line * 100, 10 * 1024 * 1024 // (len(line) * 100), tail)
    fitting = Body(head, line, (limit - 1) // len(line), tail)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    async with running_trainer(settings) as service:
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=as_gateway()
        ) as client:
            refused = await client.post("/v1/files", headers=headers, content=oversized)
            stored = await client.post("/v1/files", headers=headers, content=fitting)
            declared = await client.post(
                "/v1/files",
                headers={**headers, "Content-Length": str(2 * limit + 100_000)},
                content=head + b"x" * (2 * limit + 100_000 - len(head)),
            )
            listed = (await client.get("/v1/files")).json()["data"]
    assert refused.status_code == 413
    assert f"larger than {limit} bytes" in refused.json()["error"]["message"]
    assert oversized.sent < 20  # stopped reading: the client's other chunks were never asked for
    assert stored.status_code == 200, stored.text
    assert stored.json()["bytes"] == len(line) * ((limit - 1) // len(line))
    assert declared.status_code == 413
    assert [f["id"] for f in listed] == [stored.json()["id"]]
    artifacts = tmp_path / "artifacts"
    assert list((artifacts / "tmp").iterdir()) == []
    assert len([p for p in (artifacts / "sha256").rglob("*") if p.is_file()]) == 1


async def test_a_tenants_jobs_are_invisible_to_other_tenants(
    tmp_path: Path, nats_url: str, subjects: Subjects, database_url: str
) -> None:
    settings = trainer_settings(tmp_path, nats_url, subjects, database_url)
    async with running_trainer(settings) as service:
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://trainer", auth=as_gateway()
        ) as client:
            file = (await upload(client, "t.jsonl", TRAIN, as_tenant="acme")).json()
            path_like_names = [
                await client.post(
                    "/v1/fine_tuning/jobs",
                    headers=tenant("acme"),
                    json={"model": "tiny-llama", "training_file": file["id"], **name},
                )
                for name in ({"model_name": "../../etc"}, {"suffix": "a/b"})
            ]
            not_theirs = await client.post(
                "/v1/fine_tuning/jobs",
                headers=tenant("globex"),
                json={"model": "tiny-llama", "training_file": file["id"]},
            )
            job = await client.post(
                "/v1/fine_tuning/jobs",
                headers=tenant("acme"),
                json={"model": str(tmp_path / "missing"), "training_file": file["id"]},
            )
            assert job.status_code == 200, job.text
            job_id = job.json()["id"]

            async def recorded() -> bool:
                listed = await client.get("/v1/fine_tuning/jobs", headers=tenant("acme"))
                return bool(listed.json()["data"])

            await eventually(recorded, what="the job to be recorded")
            paths = ["", "/events", "/checkpoints", "/axolotl.yaml"]
            theirs = [
                await client.get(f"/v1/fine_tuning/jobs/{job_id}{p}", headers=tenant("globex"))
                for p in paths
            ]
            cancel = await client.post(
                f"/v1/fine_tuning/jobs/{job_id}/cancel", headers=tenant("globex")
            )
            globex_jobs = (
                await client.get("/v1/fine_tuning/jobs", headers=tenant("globex"))
            ).json()
            own = await client.get(f"/v1/fine_tuning/jobs/{job_id}", headers=tenant("acme"))
            checkpoints = await client.get(
                f"/v1/fine_tuning/jobs/{job_id}/checkpoints", headers=tenant("acme")
            )
    assert [r.status_code for r in path_like_names] == [422, 422]
    assert not_theirs.status_code == 404
    assert not_theirs.json()["error"]["code"] == "file_not_found"
    assert job.json()["training_file"] == file["sha256"]
    assert job.json()["organization_id"] == "acme"
    for response in [*theirs, cancel]:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "job_not_found"
    assert globex_jobs["data"] == []
    assert own.json()["organization_id"] == "acme"
    assert checkpoints.json()["object"] == "list"
