"""Importing rated examples from a user's own PostgreSQL database into an export."""

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from libs.storage import Database
from libs.supervision.postgres import ThrowawayPostgres
from tests.conftest import unique_name
from tests.integration.exporter_support import exporter_on, http_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def app_database(postgres: ThrowawayPostgres) -> str:
    """The user's application database: a table of rated answers."""
    url = postgres.create_database(unique_name("app"))
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    await connection.execute(
        "create table ratings (id int primary key, question text, answer text, stars int, "
        "starred bool, topic text)"
    )
    rows = [
        (
            i,
            f"How do I update the billing address on invoice {i}?",
            f"Open invoice {i}, choose Edit billing details and save the new address.",
            3 + i % 3,
            i % 4 == 0,
            "billing",
        )
        for i in range(30)
    ]
    await connection.executemany("insert into ratings values ($1, $2, $3, $4, $5, $6)", rows)
    await connection.close()
    return url


@pytest.fixture
async def client(
    app_database: str, tmp_path: Path, exporter_tokenizer_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'exporter.db'}")
    from libs.storage import migrate_to_head

    await migrate_to_head(database.url)
    exporter = exporter_on(
        database,
        tmp_path / "artifacts",
        exporter_tokenizer_dir,
        external_databases={"app": app_database},
        external_timeout_seconds=0.5,
    )
    async with http_client(exporter) as http:
        yield http
    await database.dispose()


def export_body(query: str, parameters: list[object]) -> dict[str, object]:
    return {
        "name": "billing",
        "external": {
            "database": "app",
            "query": query,
            "parameters": parameters,
            "columns": {
                "prompt": "question",
                "response": "answer",
                "rating": "stars",
                "gold_star": "starred",
                "domain": "topic",
            },
        },
    }


async def test_export_reads_a_parameterised_query_with_a_column_mapping(
    client: httpx.AsyncClient,
) -> None:
    query = "select * from ratings where stars >= $1 order by id"
    response = await client.post("/v1/datasets/exports?wait=true", json=export_body(query, [4]))
    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail["train_rows"] + detail["test_rows"] == 20
    manifest = detail["manifest"]
    assert manifest["filters"]["source"] == "postgres:app"
    assert manifest["external"]["database"] == "app"
    assert manifest["splits"]["train"]["domains"] == {"billing": detail["train_rows"]}
    again = await client.post("/v1/datasets/exports?wait=true", json=export_body(query, [4]))
    assert again.json()["train_rows"] + again.json()["test_rows"] == 20  # not imported twice


async def test_the_external_connection_is_read_only(client: httpx.AsyncClient) -> None:
    query = "insert into ratings values (100, 'q', 'a', 5, true, 'x') returning *"
    response = await client.post("/v1/datasets/exports?wait=true", json=export_body(query, []))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "external_import_failed"
    assert "read-only" in error["message"]


async def test_the_external_query_is_time_limited(client: httpx.AsyncClient) -> None:
    query = "select *, pg_sleep(5) from ratings where id = $1"
    response = await client.post("/v1/datasets/exports?wait=true", json=export_body(query, [1]))
    assert response.status_code == 422
    assert "statement timeout" in response.json()["error"]["message"]


async def test_an_unknown_external_database_is_named(client: httpx.AsyncClient) -> None:
    body = export_body("select 1", [])
    body["external"]["database"] = "crm"  # type: ignore[index]
    response = await client.post("/v1/datasets/exports?wait=true", json=body)
    assert "unknown external database `crm`" in response.json()["error"]["message"]
