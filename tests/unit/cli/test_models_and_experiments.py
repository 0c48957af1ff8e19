"""``tuneloop models``, ``experiments`` and ``evaluate`` against a fake gateway."""

import json

import pytest
from typer.testing import CliRunner

from tests.unit.cli.fake_gateway import FakeGateway, error, reply
from tests.unit.cli.test_datasets import DETAIL
from tuneloop.cli import app

pytestmark = pytest.mark.unit

ALIAS = {
    "model_name": "support",
    "alias": "production",
    "version": 2,
    "serving_name": "support@2-1a2b3c4d",
    "revision": 5,
    "updated_at": "2026-11-22T02:00:00Z",
}
MODEL = {
    "name": "support",
    "tenant": "default",
    "description": "",
    "latest_version": 2,
    "aliases": [ALIAS],
    "created_at": "2026-11-22T01:00:00Z",
}
EXPERIMENT = {
    "id": "exp_1",
    "tenant": "default",
    "name": "tuned-vs-base",
    "model_name": "support",
    "status": "running",
    "stop_reason": None,
    "variants": [
        {"name": "control", "serving_name": "support@1-aa", "weight": 0.5, "is_control": True},
        {"name": "treatment", "serving_name": "support@2-bb", "weight": 0.5, "is_control": False},
    ],
}
VIEW = {
    "experiment_id": "exp_1",
    "status": "concluded",
    "verdict": "treatment_wins",
    "summary": "treatment wins: +12 points of gold-star rate",
    "primary_metric": "gold_star_rate",
    "method": "msprt",
    "alpha": 0.05,
    "arms": [
        {
            "variant": "control",
            "serving_name": "support@1-aa",
            "n": 100,
            "total": 30.0,
            "total_squares": 30.0,
            "requests": 110,
            "error_rate": 0.0,
            "fallback_rate": 0.0,
        },
    ],
    "results": [
        {
            "variant": "treatment",
            "difference": 0.12,
            "ci_low": 0.02,
            "ci_high": 0.22,
            "p_value": 0.01,
            "adjusted_p_value": 0.01,
            "method": "msprt",
        },
    ],
    "recommendation": "promote treatment",
}


def test_models_list_shows_aliases(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("GET", "/v1/registry/models", reply(200, [MODEL]))
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 0
    assert "production→v2" in result.stdout
    assert json.loads(runner.invoke(app, ["models", "list", "--json"]).stdout) == [MODEL]


def test_deploy_and_rollback_send_the_note(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("POST", "/v1/registry/models/support/deployments", reply(200, ALIAS))
    fake.on(
        "POST",
        "/v1/registry/models/support/aliases/production/rollback",
        reply(200, {**ALIAS, "version": 1, "serving_name": "support@1-aa", "revision": 6}),
    )
    deployed = runner.invoke(app, ["models", "deploy", "support", "2", "--note", "better"])
    assert deployed.exit_code == 0, deployed.output
    assert "support:production → v2" in deployed.stdout
    assert fake.body("POST", "/v1/registry/models/support/deployments") == {
        "version": 2,
        "alias": "production",
        "notes": "better",
        "actor": "cli",
        "expected_revision": None,
    }
    rolled = runner.invoke(app, ["models", "rollback", "support", "--note", "regressed"])
    assert rolled.exit_code == 0, rolled.output
    assert "rolled back support:production → v1" in rolled.stdout
    assert (
        fake.body("POST", "/v1/registry/models/support/aliases/production/rollback")["notes"]
        == "regressed"
    )


def test_a_stale_revision_is_explained(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on(
        "POST",
        "/v1/registry/models/support/deployments",
        error(409, "revision_conflict", "production moved to revision 6 meanwhile"),
    )
    result = runner.invoke(app, ["models", "deploy", "support", "2", "--expected-revision", "5"])
    assert result.exit_code == 1
    assert "production moved to revision 6 meanwhile" in result.stderr


def test_experiment_start_splits_the_weights(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("POST", "/v1/experiments", reply(201, EXPERIMENT))
    result = runner.invoke(
        app,
        [
            "experiments",
            "start",
            "--name",
            "tuned-vs-base",
            "--model",
            "support",
            "--control",
            "support@1-aa",
            "--treatment",
            "support@2-bb",
            "--treatment",
            "support@3-cc",
        ],
    )
    assert result.exit_code == 0, result.output
    sent = fake.body("POST", "/v1/experiments")
    assert sent["control"] == {"name": "control", "serving_name": "support@1-aa", "weight": 0.3334}
    assert [(t["name"], t["weight"]) for t in sent["treatments"]] == [
        ("treatment-1", 0.3333),
        ("treatment-2", 0.3333),
    ]


def test_experiment_show_joins_the_verdict(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("GET", "/v1/experiments", reply(200, [EXPERIMENT]))
    fake.on("GET", "/v1/evaluations/experiments/exp_1", reply(200, VIEW))
    result = runner.invoke(app, ["experiments", "show", "tuned-vs-base"])
    assert result.exit_code == 0, result.output
    assert "treatment wins: +12 points" in result.stdout
    assert "[0.0200, 0.2200]" in result.stdout
    as_json = json.loads(runner.invoke(app, ["experiments", "show", "exp_1", "--json"]).stdout)
    assert as_json["evaluation"]["verdict"] == "treatment_wins"


def test_ramp_and_stop(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("POST", "/v1/experiments/exp_1/ramp", reply(200, EXPERIMENT))
    fake.on("POST", "/v1/experiments/exp_1/stop", reply(200, {**EXPERIMENT, "status": "stopped"}))
    assert runner.invoke(app, ["experiments", "ramp", "exp_1", "treatment", "0.5"]).exit_code == 0
    assert fake.body("POST", "/v1/experiments/exp_1/ramp") == {
        "variant": "treatment",
        "weight": 0.5,
    }
    assert "stopped tuned-vs-base" in runner.invoke(app, ["experiments", "stop", "exp_1"]).stdout


def evaluation(status: str, done: int) -> dict[str, object]:
    return {
        "evaluation_id": "ev_1",
        "status": status,
        "models": ["base", "support"],
        "total": 10,
        "done": done,
        "metrics": {"base": {"exact_match": 0.1}, "support": {"exact_match": 0.9}}
        if status == "completed"
        else {},
        "comparisons": [],
        "summary": "support beats base" if status == "completed" else "",
        "created_at": "2026-11-22T02:00:00Z",
    }


def test_evaluate_uses_the_test_split_and_waits(fake: FakeGateway, runner: CliRunner) -> None:
    test_sha = "d" * 64
    detail = json.loads(json.dumps(DETAIL))
    detail["manifest"]["splits"]["test"]["artifact_sha256"] = test_sha
    fake.on("GET", "/v1/datasets/dsv_1", reply(200, detail))
    fake.on("POST", "/v1/evaluations", reply(202, evaluation("running", 0)))
    fake.on(
        "GET",
        "/v1/evaluations/ev_1",
        reply(200, evaluation("running", 5)),
        reply(200, evaluation("completed", 10)),
    )
    result = runner.invoke(
        app, ["evaluate", "base", "support", "--dataset", "dsv_1", "--interval", "0.1"]
    )
    assert result.exit_code == 0, result.output
    assert "support beats base" in result.stdout
    assert "0.9" in result.stdout
    sent = fake.body("POST", "/v1/evaluations")
    assert (sent["models"], sent["dataset_sha256"]) == (["base", "support"], test_sha)
