"""The exporter's HTTP API on a real database: examples, uploads, exports, tenant isolation."""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from libs.storage import Database
from services.exporter.render import parse_line
from tests.integration.exporter_support import (
    conversation,
    example,
    export_finished,
    exporter_on,
    http_client,
    outbox_types,
    stored_examples,
)

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exporter"


@pytest.fixture
async def database(migrated_database_url: str) -> AsyncIterator[Database]:
    db = Database(migrated_database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def client(
    database: Database, tmp_path: Path, exporter_tokenizer_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    exporter = exporter_on(
        database,
        tmp_path / "artifacts",
        exporter_tokenizer_dir,
        max_reported_errors=5,
        upload_max_bytes=64_000,
    )
    async with http_client(exporter) as http:
        yield http


def bad_file() -> bytes:
    """Three good rows, then one bad row per validation rule (16 bad rows)."""
    good = (FIXTURES / "prompt_too_short.jsonl").read_bytes().splitlines()[0]
    bad = [path.read_bytes().splitlines()[1] for path in sorted(FIXTURES.glob("*.jsonl"))]
    return b"\n".join([good, good, good, *bad]) + b"\n"


def upload(client: httpx.AsyncClient, data: bytes, name: str = "rows.jsonl", **params: str):  # type: ignore[no-untyped-def]
    return client.post("/v1/datasets/uploads", params=params, files={"file": (name, data)})


async def test_strict_upload_lists_every_bad_line_capped_and_stores_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await upload(client, bad_file())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    assert error["total_errors"] >= 16
    assert len(error["errors"]) == 5
    lines = [e["line"] for e in error["errors"]]
    assert lines == sorted(lines)
    assert lines[0] == 4
    assert {"line", "field", "code", "message"} <= set(error["errors"][0])
    assert await stored_examples(database) == 0


async def test_lenient_upload_keeps_valid_rows_and_returns_rejected_ones(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await upload(client, bad_file(), mode="lenient", domain="support")
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (3, 16)
    assert report["errors"][0]["line"] == 4
    assert await stored_examples(database) == 3


async def test_too_large_upload_is_refused_while_streaming(
    client: httpx.AsyncClient, database: Database
) -> None:
    row = json.dumps(example(1)).encode() + b"\n"
    response = await upload(client, row * (70_000 // len(row)))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert await stored_examples(database) == 0


async def test_csv_and_alpaca_uploads_are_normalised(client: httpx.AsyncClient) -> None:
    csv = (
        b"prompt,response,rating\n"
        b'"Where is my parcel, please?","It left the depot today and arrives tomorrow.",5\n'
    )
    assert (await upload(client, csv, "pairs.csv")).json()["format"] == "csv"
    alpaca = json.dumps(
        [{"instruction": "Summarise my last invoice.", "output": "Invoice 12 was 30 EUR, paid."}]
    ).encode()
    report = (await upload(client, alpaca, "rows.json")).json()
    assert (report["format"], report["accepted"]) == ("alpaca", 1)


async def test_examples_api_stores_one_or_a_batch_and_refuses_bad_ones(
    client: httpx.AsyncClient, database: Database
) -> None:
    without_system = {**example(1), "messages": conversation(1)[1:], "system": "Be brief."}
    one = await client.post("/v1/examples", json=without_system)
    assert one.status_code == 201, one.text
    batch = await client.post("/v1/examples", json={"examples": [example(2), example(3)]})
    assert len(batch.json()["ids"]) == 2
    bad = {"examples": [example(4), {"messages": conversation(5)[:2]}]}
    refused = await client.post("/v1/examples", json=bad)
    assert refused.status_code == 422
    assert refused.json()["error"]["errors"][0]["field"] == "examples[1].messages"
    invalid = await client.post("/v1/examples", json={"messages": [], "rating": 9})
    assert invalid.json()["error"]["code"] == "invalid_request"
    assert await stored_examples(database) == 3


async def test_export_dedups_splits_and_serves_the_version(client: httpx.AsyncClient) -> None:
    examples = [example(i) for i in range(40)]
    examples.append(example(3))  # exact duplicate
    loud = conversation(4)
    loud[1]["content"] = "  WHERE is my   order number 4? It has not arrived. "
    examples.append({"messages": loud, "rating": 5, "domain": "support"})  # folded duplicate
    examples.append({"messages": conversation(99, answer="Soon."), "rating": 5})  # too short
    assert (await client.post("/v1/examples", json={"examples": examples})).status_code == 422
    examples.pop()
    assert (await client.post("/v1/examples", json={"examples": examples})).status_code == 201

    accepted = await client.post(
        "/v1/datasets/exports", json={"name": "support", "filters": {"min_rating": 4}}
    )
    assert accepted.json()["status"] == "queued"
    status = await export_finished(client, accepted)
    assert status["status"] == "succeeded", status
    assert (status["dataset"], status["version"], status["error"]) == ("support", 1, None)
    assert status["started_at"] is not None
    assert status["finished_at"] is not None
    response = await client.get(f"/v1/datasets/{status['dataset_id']}")
    assert response.status_code == 200, response.text
    detail = response.json()
    manifest = detail["manifest"]
    assert manifest["excluded"] == {"duplicate": 1, "near_duplicate": 1}
    assert detail["train_rows"] + detail["test_rows"] == 40
    assert detail["test_rows"] > 0
    assert manifest["splits"]["train"]["tokens"] > 0
    assert manifest["splits"]["train"]["domains"] == {"support": detail["train_rows"]}

    listed = (await client.get("/v1/datasets")).json()["data"]
    assert [(d["dataset"], d["version"]) for d in listed] == [("support", 1)]
    train = await client.get(f"/v1/datasets/{detail['id']}/files/train")
    lines = train.text.splitlines()
    assert len(lines) == detail["train_rows"]
    assert parse_line("openai-chat-jsonl", lines[0])[0]["role"] == "system"
    lineage = (await client.get(f"/v1/datasets/{detail['id']}/files/lineage")).text
    assert len(lineage.splitlines()) == 42
    preview = (await client.get(f"/v1/datasets/{detail['id']}/preview?limit=3")).json()
    assert len(preview["rows"]) == 3

    again = await client.post("/v1/datasets/exports?wait=true", json={"name": "support"})
    assert again.status_code == 201, again.text
    assert again.json()["version"] == 2
    assert (await client.delete(f"/v1/datasets/{detail['id']}")).status_code == 204
    assert [d["version"] for d in (await client.get("/v1/datasets")).json()["data"]] == [2]
    assert (await client.get(f"/v1/datasets/{detail['id']}")).status_code == 404


async def test_too_few_examples_says_how_many_and_why(
    client: httpx.AsyncClient, database: Database
) -> None:
    rows = [example(1), {"messages": conversation(2, answer="Tomorrow it comes!"), "rating": 5}]
    await upload(client, b"\n".join(json.dumps(r).encode() for r in rows), mode="lenient")
    status = await export_finished(
        client, await client.post("/v1/datasets/exports", json={"name": "tiny"})
    )
    assert status["status"] == "failed"
    assert (status["dataset_id"], status["version"]) == (None, None)
    error = status["error"]
    assert error["code"] == "too_few_examples"
    assert "only 1 usable examples" in error["message"]
    assert error["total_errors"] == 1
    assert (await client.get("/v1/datasets")).json()["data"] == []
    assert await outbox_types(database) == ["dataset.export_failed"]

    waited = await client.post("/v1/datasets/exports?wait=true", json={"name": "tiny"})
    assert waited.status_code == 422
    assert waited.json()["error"]["code"] == "too_few_examples"
    assert waited.json()["error"]["total_errors"] == 1


async def test_one_tenant_never_sees_or_exports_another_tenants_rows(
    client: httpx.AsyncClient,
) -> None:
    acme = {"X-Tuneloop-Tenant": "acme"}
    globex = {"X-Tuneloop-Tenant": "globex"}
    batch = {"examples": [example(i) for i in range(12)]}
    assert (await client.post("/v1/examples", json=batch, headers=acme)).status_code == 201
    accepted = await client.post("/v1/datasets/exports", json={"name": "s"}, headers=acme)
    assert (await export_finished(client, accepted, acme))["status"] == "succeeded"
    export_url = f"/v1/datasets/exports/{accepted.json()['id']}"
    assert (await client.get(export_url, headers=globex)).status_code == 404
    exported = await client.get(f"/v1/datasets/{accepted.json()['id']}", headers=acme)
    assert exported.status_code == 200
    refused = await client.post(
        "/v1/datasets/exports?wait=true", json={"name": "s"}, headers=globex
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["total_errors"] == 0
    assert (await client.get("/v1/datasets", headers=globex)).json()["data"] == []
    version = exported.json()["id"]
    assert (await client.get(f"/v1/datasets/{version}", headers=globex)).status_code == 404
    assert (await client.delete(f"/v1/datasets/{version}", headers=globex)).status_code == 404
    files = await client.get(f"/v1/datasets/{version}/files/train", headers=globex)
    assert files.status_code == 404


async def test_two_exports_of_one_dataset_at_once_get_distinct_versions(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/examples", json={"examples": [example(i) for i in range(12)]})
    body = {"name": "race", "test_fraction": 0.0}
    first, second = await asyncio.gather(
        client.post("/v1/datasets/exports?wait=true", json=body),
        client.post("/v1/datasets/exports?wait=true", json=body),
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert sorted([first.json()["version"], second.json()["version"]]) == [1, 2]
    assert first.json()["artifact_sha256"] == second.json()["artifact_sha256"]


async def test_a_byte_order_mark_is_accepted_and_a_file_without_rows_is_refused(
    client: httpx.AsyncClient,
) -> None:
    row = json.dumps(example(1)).encode()
    with_bom = await upload(client, b"\xef\xbb\xbf" + row + b"\n")
    assert with_bom.status_code == 201, with_bom.text
    blank = await upload(client, b"\n\n  \n")
    assert blank.status_code == 422
    assert blank.json()["error"]["code"] == "empty_file"


async def test_summary_counts_what_filters_match_per_tenant(client: httpx.AsyncClient) -> None:
    acme = {"X-Tuneloop-Tenant": "acme"}
    rows = [example(i, gold_star=i < 3) for i in range(6)]
    rows.append(example(6, domain="billing", task_type="refund"))
    assert (
        await client.post("/v1/examples", json={"examples": rows}, headers=acme)
    ).status_code == 201

    everything = (await client.get("/v1/examples/summary", headers=acme)).json()
    assert everything["matching"] == 7
    assert everything["gold_star"] == 3
    assert everything["tokens"] > 0
    assert everything["domains"] == {"support": 6, "billing": 1}
    assert everything["task_types"] == {"": 6, "refund": 1}

    gold = await client.get(
        "/v1/examples/summary", params={"gold_star_only": "true", "min_rating": 5}, headers=acme
    )
    assert (gold.json()["matching"], gold.json()["gold_star"]) == (1, 1)  # example 1: rating 5
    billing = await client.get("/v1/examples/summary", params={"domain": "billing"}, headers=acme)
    assert billing.json()["matching"] == 1
    other = (await client.get("/v1/examples/summary")).json()
    assert (other["matching"], other["domains"]) == (0, {})
    bad = await client.get("/v1/examples/summary", params={"min_rating": 9})
    assert bad.status_code == 422
    assert bad.json()["error"]["errors"][0]["field"] == "min_rating"
