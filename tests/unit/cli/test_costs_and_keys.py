"""``tuneloop costs``, ``budgets`` and ``keys`` against a fake gateway."""

import json

import pytest
from typer.testing import CliRunner

from tests.unit.cli.fake_gateway import FakeGateway, reply
from tuneloop.cli import app

pytestmark = pytest.mark.unit

BUDGET = {
    "budget_id": "bud_1",
    "scope": "training",
    "job_id": None,
    "period": "month",
    "limit_usd": "50",
    "alert_at": "0.8",
    "period_start": "2026-11-01T00:00:00Z",
    "spent_usd": "45.5",
    "remaining_usd": "4.5",
    "state": "alerted",
    "created_at": "2026-11-01T00:00:00Z",
}


def test_cost_summary_totals(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on(
        "GET",
        "/v1/costs/summary",
        reply(
            200,
            {
                "group_by": "kind",
                "since": None,
                "until": None,
                "rows": [
                    {
                        "group": "training",
                        "amount_usd": "1.25",
                        "requests": 0,
                        "tokens": 9000,
                        "entries": 1,
                    }
                ],
                "total_usd": "1.25",
            },
        ),
    )
    result = runner.invoke(app, ["costs", "summary", "--group-by", "kind"])
    assert result.exit_code == 0, result.output
    assert "$1.25" in result.stdout
    assert fake.sent("GET", "/v1/costs/summary")[0].url.params["group_by"] == "kind"


def test_roi_sends_money_as_strings(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("POST", "/v1/costs/roi", reply(200, {"roi_percent": "120", "verdict": "pays off"}))
    result = runner.invoke(
        app,
        [
            "costs",
            "roi",
            "--base-accuracy",
            "0.8",
            "--tuned-accuracy",
            "0.9",
            "--calls-per-month",
            "1000",
            "--training-cost",
            "12.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "pays off" in result.stdout
    sent = fake.body("POST", "/v1/costs/roi")
    assert sent["training_cost_usd"] == "12.5"
    assert "serving_name" not in sent


def test_budgets_set_list_delete(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("POST", "/v1/budgets", reply(201, BUDGET))
    fake.on("GET", "/v1/budgets", reply(200, [BUDGET]))
    fake.on("DELETE", "/v1/budgets/bud_1", reply(204))
    made = runner.invoke(app, ["budgets", "set", "--limit", "50", "--scope", "training"])
    assert made.exit_code == 0, made.output
    assert fake.body("POST", "/v1/budgets") == {
        "scope": "training",
        "period": "month",
        "limit_usd": "50",
        "alert_at": "0.8",
    }
    assert "alerted" in runner.invoke(app, ["budgets", "list"]).stdout
    deleted = runner.invoke(app, ["budgets", "delete", "bud_1", "--json"])
    assert json.loads(deleted.stdout) == {"deleted": "bud_1"}


def test_keys_create_shows_the_secret_once(fake: FakeGateway, runner: CliRunner) -> None:
    created = {"id": "abcd1234", "key": "tl_abcd1234_s3cret", "name": "ci", "scopes": ["train"]}
    fake.on("POST", "/v1/keys", reply(201, created))
    result = runner.invoke(app, ["keys", "create", "--name", "ci", "--scopes", "train"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "tl_abcd1234_s3cret"
    assert "not shown again" in result.stderr
    assert fake.body("POST", "/v1/keys") == {"name": "ci", "scopes": ["train"]}


def test_keys_refuse_an_unknown_scope(fake: FakeGateway, runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "create", "--name", "ci", "--scopes", "train,root"])
    assert result.exit_code == 2
    assert "root" in result.output
    assert fake.requests == []


@pytest.mark.parametrize(
    "listed",
    [
        [{"id": "k1", "name": "ci", "scopes": ["read"]}],
        {"data": [{"id": "k1", "name": "ci", "scopes": ["read"]}]},
    ],
)
def test_keys_list_and_revoke(fake: FakeGateway, runner: CliRunner, listed: object) -> None:
    fake.on("GET", "/v1/keys", reply(200, listed))
    fake.on("DELETE", "/v1/keys/k1", reply(204))
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 0, result.output
    assert "k1" in result.stdout
    assert "read" in result.stdout
    assert "revoked key k1" in runner.invoke(app, ["keys", "revoke", "k1"]).stdout
