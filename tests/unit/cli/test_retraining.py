"""``tuneloop retraining`` against a fake gateway."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.cli.fake_gateway import FakeGateway, error, reply
from tuneloop.cli import app

pytestmark = pytest.mark.unit

POLICY = {
    "model_name": "support",
    "enabled": True,
    "trigger": {"gold_stars": 100, "schedule_seconds": None},
    "export": {"dataset": None, "filters": {"gold_star_only": True}, "test_fraction": 0.1},
    "training": {"base_model": None, "backend": "auto", "hyperparameters": {}},
    "evaluation": {"metric": "normalized_match", "margin": 0.02, "max_tokens": 256},
    "experiment": {"treatment_weight": 0.5, "primary_metric": "gold_star_rate"},
    "dataset": "support-retraining",
    "gold_stars": 140,
    "new_gold_stars": 40,
    "next_scheduled_at": None,
    "waiting_for": None,
    "active_run_id": None,
    "last_run_id": None,
    "runs": 0,
    "created_at": "2026-11-22T06:00:00Z",
    "updated_at": "2026-11-22T06:00:00Z",
}
RUN = {
    "id": "rtr_1",
    "model_name": "support",
    "status": "experimenting",
    "trigger": "manual",
    "reason": "asked for",
    "summary": "A/B test exp_rt1 is live",
    "decision": "support@2-bb scored 0.600 normalized_match against 0.400: not worse",
    "history": [
        {"status": "triggered", "at": "2026-11-22T06:00:00Z", "summary": "asked for"},
        {"status": "exporting", "at": "2026-11-22T06:00:00Z", "summary": "exporting"},
    ],
    "created_at": "2026-11-22T06:00:00Z",
}


def test_create_sends_the_trigger_and_the_options_given(
    fake: FakeGateway, runner: CliRunner, tmp_path: Path
) -> None:
    fake.on("POST", "/v1/retraining/policies", reply(201, POLICY))
    base = tmp_path / "policy.json"
    base.write_text(json.dumps({"training": {"hyperparameters": {"max_steps": 60}}}))
    result = runner.invoke(
        app,
        [
            "retraining",
            "create",
            "support",
            "--gold-stars",
            "100",
            "--every-hours",
            "24",
            "--domain",
            "billing",
            "--margin",
            "0.02",
            "--weight",
            "0.3",
            "--from-file",
            str(base),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "created retraining of support: every 100 new gold stars" in result.output
    assert fake.body("POST", "/v1/retraining/policies") == {
        "model_name": "support",
        "trigger": {"gold_stars": 100, "schedule_seconds": 86400},
        "training": {"hyperparameters": {"max_steps": 60}},
        "export": {"filters": {"gold_star_only": True, "domain": "billing", "task_type": None}},
        "evaluation": {"margin": 0.02},
        "experiment": {"treatment_weight": 0.3},
    }


def test_create_needs_a_trigger(fake: FakeGateway, runner: CliRunner) -> None:
    result = runner.invoke(app, ["retraining", "create", "support"])
    assert result.exit_code == 1
    assert "--gold-stars N, --every-hours H" in result.output
    assert not fake.requests


def test_list_show_and_switches(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("GET", "/v1/retraining/policies", reply(200, [POLICY]))
    fake.on("GET", "/v1/retraining/policies/support", reply(200, POLICY))
    fake.on("GET", "/v1/retraining/runs", reply(200, {"data": [RUN]}))
    fake.on(
        "POST", "/v1/retraining/policies/support/disable", reply(200, {**POLICY, "enabled": False})
    )
    listed = runner.invoke(app, ["retraining", "list"])
    assert listed.exit_code == 0, listed.output
    assert "every 100 new gold stars" in listed.output
    assert "40" in listed.output
    shown = runner.invoke(app, ["retraining", "show", "support"])
    assert shown.exit_code == 0, shown.output
    assert "normalized_match, margin 0.02" in shown.output
    assert "rtr_1" in shown.output
    off = runner.invoke(app, ["retraining", "disable", "support"])
    assert off.output.strip() == "retraining of support is off"
    as_json = runner.invoke(app, ["retraining", "runs", "support", "--json"])
    assert json.loads(as_json.output) == [RUN]
    assert fake.sent("GET", "/v1/retraining/runs")[-1].url.params["model_name"] == "support"


def test_run_now_and_a_refusal_in_words(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on(
        "POST",
        "/v1/retraining/policies/support/runs",
        reply(201, RUN),
        error(409, "run_active", "run rtr_1 of 'support' is going on; a policy runs one at a time"),
    )
    started = runner.invoke(app, ["retraining", "run", "support"])
    assert started.exit_code == 0, started.output
    assert "rtr_1 of support: experimenting" in started.output
    assert "decision: support@2-bb scored 0.600" in started.output
    refused = runner.invoke(app, ["retraining", "run", "support"])
    assert refused.exit_code == 1
    assert "a policy runs one at a time" in refused.output
