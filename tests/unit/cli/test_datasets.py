"""``tuneloop datasets`` and ``examples`` against a fake gateway."""

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.unit.cli.fake_gateway import FakeGateway, error, reply
from tuneloop.cli import app

pytestmark = pytest.mark.unit

ROW_ERRORS = [
    {"line": 2, "field": "messages", "code": "missing_assistant", "message": "no answer to learn"},
    {"line": 5, "field": "rating", "code": "out_of_range", "message": "rating must be 1-5"},
]
VERSION = {
    "id": "dsv_1",
    "dataset": "support",
    "version": 3,
    "format": "openai-chat-jsonl",
    "created_at": "2026-11-22T02:00:00Z",
    "train_rows": 90,
    "test_rows": 10,
    "artifact_sha256": "a" * 64,
    "manifest_sha256": "b" * 64,
}
SPLIT = {
    "examples": 90,
    "tokens": 9000,
    "tokens_per_example": {"min": 10, "max": 200, "mean": 100.0},
    "messages_per_example": {"min": 2, "max": 2, "mean": 2.0},
    "response_chars": {"min": 20, "max": 400, "mean": 120.0},
    "domains": {"returns": 90},
    "task_types": {},
    "ratings": {"unrated": 0, "counts": {"5": 90}, "gold_star": 12},
    "artifact_sha256": "a" * 64,
}
DETAIL = {
    **VERSION,
    "manifest": {
        "dataset": "support",
        "version": 3,
        "tenant": "default",
        "format": "openai-chat-jsonl",
        "created_at": "2026-11-22T02:00:00Z",
        "filters": {"min_rating": 4, "gold_star_only": False},
        "test_fraction": 0.1,
        "context_length": 2048,
        "tokenizer": "hf:tiny",
        "considered": 104,
        "excluded": {"duplicate": 4},
        "warnings": {},
        "splits": {"train": SPLIT, "test": {**SPLIT, "examples": 10}},
        "lineage_sha256": "c" * 64,
        "lineage_uri": "file:///x",
    },
}


def rows_file(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    return path


def test_a_refused_upload_lists_every_row_error_and_exits_1(
    fake: FakeGateway, runner: CliRunner, tmp_path: Path
) -> None:
    fake.on(
        "POST",
        "/v1/datasets/uploads",
        error(422, "invalid_rows", "2 row(s) of the openai-chat file are invalid", ROW_ERRORS),
    )
    result = runner.invoke(app, ["datasets", "upload", str(rows_file(tmp_path))])
    assert result.exit_code == 1
    assert "2 row(s) of the openai-chat file are invalid" in result.stderr
    for column in ("line", "field", "code", "message"):
        assert column in result.stderr
    assert "missing_assistant" in result.stderr
    assert "rating must be 1-5" in result.stderr
    sent = fake.sent("POST", "/v1/datasets/uploads")[0]
    assert sent.headers["authorization"] == "Bearer tl_testkey1_secret"
    assert sent.url.params["mode"] == "strict"
    assert b'filename="rows.jsonl"' in sent.content


def test_a_refused_upload_in_json_mode_prints_the_error_body(
    fake: FakeGateway, runner: CliRunner, tmp_path: Path
) -> None:
    fake.on("POST", "/v1/datasets/uploads", error(422, "invalid_rows", "bad rows", ROW_ERRORS))
    result = runner.invoke(app, ["datasets", "upload", str(rows_file(tmp_path)), "--json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["error"]["code"] == "invalid_rows"
    assert [e["line"] for e in body["error"]["errors"]] == [2, 5]


def test_a_lenient_upload_reports_what_it_kept_and_rejected(
    fake: FakeGateway, runner: CliRunner, tmp_path: Path
) -> None:
    report = {
        "format": "openai-chat",
        "mode": "lenient",
        "accepted": 8,
        "rejected": 2,
        "errors": ROW_ERRORS,
        "warnings": [],
        "total_warnings": 0,
    }
    fake.on("POST", "/v1/datasets/uploads", reply(201, report))
    result = runner.invoke(
        app, ["datasets", "upload", str(rows_file(tmp_path)), "--lenient", "--domain", "returns"]
    )
    assert result.exit_code == 0, result.output
    assert "stored 8 row(s)" in result.stdout
    assert "out_of_range" in result.stdout
    params = fake.sent("POST", "/v1/datasets/uploads")[0].url.params
    assert (params["mode"], params["domain"]) == ("lenient", "returns")


def export_status(status: str, **fields: object) -> dict[str, object]:
    return {
        "id": "dsv_1",
        "dataset": "support",
        "status": status,
        "created_at": "2026-11-22T02:00:00Z",
        **fields,
    }


def test_export_sends_the_filters_and_waits_for_the_version(
    fake: FakeGateway, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tuneloop.client.exports.POLL_SECONDS", 0.0)
    fake.on("POST", "/v1/datasets/exports", reply(202, export_status("queued")))
    fake.on(
        "GET",
        "/v1/datasets/exports/dsv_1",
        reply(200, export_status("running")),
        reply(200, export_status("succeeded", dataset_id="dsv_1", version=3)),
    )
    fake.on("GET", "/v1/datasets/dsv_1", reply(200, DETAIL))
    result = runner.invoke(
        app,
        [
            "datasets",
            "export",
            "--name",
            "support",
            "--min-rating",
            "4",
            "--gold-only",
            "--domain",
            "returns",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "exported support v3 (dsv_1)" in result.stdout
    assert "duplicate" in result.stdout
    sent = fake.body("POST", "/v1/datasets/exports")
    assert sent["name"] == "support"
    assert sent["filters"] == {
        "min_rating": 4,
        "gold_star_only": True,
        "domain": "returns",
        "task_type": None,
        "source": None,
    }


def test_too_few_examples_shows_why_they_were_excluded(
    fake: FakeGateway, runner: CliRunner
) -> None:
    reasons = [{"field": "duplicate", "code": "duplicate", "message": "7 example(s) excluded"}]
    failure = {"code": "too_few_examples", "message": "3 < 10", "errors": reasons}
    fake.on("POST", "/v1/datasets/exports", reply(202, export_status("queued")))
    fake.on("GET", "/v1/datasets/exports/dsv_1", reply(200, export_status("failed", error=failure)))
    result = runner.invoke(app, ["datasets", "export", "--name", "support"])
    assert result.exit_code == 1
    assert "7 example(s) excluded" in result.stderr
    assert "too_few_examples" in result.stderr


def test_an_export_refused_at_once_shows_why(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("POST", "/v1/datasets/exports", error(422, "external_import_failed", "unknown `crm`"))
    result = runner.invoke(app, ["datasets", "export", "--name", "support"])
    assert result.exit_code == 1
    assert "unknown `crm`" in result.stderr


def test_list_and_show_as_tables_and_json(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("GET", "/v1/datasets", reply(200, {"data": [VERSION]}))
    fake.on("GET", "/v1/datasets/dsv_1", reply(200, DETAIL))
    listed = runner.invoke(app, ["datasets", "list"])
    assert listed.exit_code == 0
    assert "support" in listed.stdout
    assert "dsv_1" in listed.stdout
    as_json = runner.invoke(app, ["datasets", "list", "--json"])
    assert json.loads(as_json.stdout) == [VERSION]
    shown = runner.invoke(app, ["datasets", "show", "dsv_1"])
    assert shown.exit_code == 0
    assert "support v3" in shown.stdout
    assert "returns" in shown.stdout


def test_an_unknown_version_says_how_to_find_one(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on(
        "GET", "/v1/datasets/nope", error(404, "dataset_not_found", "no dataset version `nope`")
    )
    result = runner.invoke(app, ["datasets", "show", "nope"])
    assert result.exit_code == 1
    assert "no dataset version `nope`" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        '{"messages": [{"role": "user", "content": "a"}]}\n'
        '{"messages": [{"role": "user", "content": "b"}]}\n',
        json.dumps([{"messages": []}, {"messages": []}]),
    ],
)
def test_examples_add_sends_a_batch(
    fake: FakeGateway, runner: CliRunner, tmp_path: Path, text: str
) -> None:
    fake.on("POST", "/v1/examples", reply(201, {"ids": ["e1", "e2"], "warnings": []}))
    path = tmp_path / "examples.jsonl"
    path.write_text(text)
    result = runner.invoke(app, ["examples", "add", str(path)])
    assert result.exit_code == 0, result.output
    assert "stored 2 example(s)" in result.stdout
    assert len(fake.body("POST", "/v1/examples")["examples"]) == 2


def test_examples_add_names_a_broken_line(
    fake: FakeGateway, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"messages": []}\n{not json\n')
    result = runner.invoke(app, ["examples", "add", str(path)])
    assert result.exit_code == 1
    assert "broken.jsonl:2 is not JSON" in result.stderr
    assert fake.requests == []


def test_fastapi_validation_details_become_a_table(fake: FakeGateway, runner: CliRunner) -> None:
    detail = {"detail": [{"loc": ["body", "version"], "type": "greater_than_equal", "msg": "≥ 1"}]}
    fake.on("POST", "/v1/registry/models/m/deployments", reply(422, detail))
    result = runner.invoke(app, ["models", "deploy", "m", "0"])
    assert result.exit_code == 1
    assert "version" in result.stderr
    assert "greater_than_equal" in result.stderr


def test_an_unreachable_gateway_is_one_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, fake: FakeGateway
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.handle = refuse  # type: ignore[method-assign]
    result = runner.invoke(app, ["datasets", "list"])
    assert result.exit_code == 1
    assert "cannot reach the gateway" in result.stderr
    assert "Traceback" not in result.output
    as_json = runner.invoke(app, ["datasets", "list", "--json"])
    assert json.loads(as_json.stdout)["error"]["code"] == "gateway_unreachable"


def test_a_401_tells_how_to_set_the_key(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("GET", "/v1/datasets", error(401, "invalid_api_key", "the API key is not valid"))
    result = runner.invoke(app, ["datasets", "list"])
    assert result.exit_code == 1
    assert "TUNELOOP_API_KEY" in result.stderr
