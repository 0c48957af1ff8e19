"""``tuneloop jobs`` against a fake gateway: estimate and confirmation, follow, cancel."""

import json

import pytest
from typer.testing import CliRunner

from tests.unit.cli.fake_gateway import FakeGateway, error, reply
from tests.unit.cli.test_datasets import DETAIL, VERSION
from tuneloop.cli import app
from tuneloop.commands.jobs import JobWatch
from tuneloop.commands.output import sparkline

pytestmark = pytest.mark.unit

ESTIMATE = {
    "model": "tiny-llama",
    "examples": 90,
    "epochs": 2,
    "context_length": 2048,
    "truncated_examples": 0,
    "trained_tokens": 18000,
    "price_version": 0,
    "hosted": None,
    "hardware": [
        {
            "hardware": "cpu",
            "unit": "machine_hour",
            "usd_per_hour": "0.10",
            "basis": "prior",
            "examples_per_second_prior": 1.0,
            "wall_seconds": 180.0,
            "cost_usd": "0.005",
        }
    ],
}


def job(status: str, **extra: object) -> dict[str, object]:
    return {
        "object": "fine_tuning.job",
        "id": "ftjob-1",
        "created_at": 1_795_000_000,
        "model": "tiny-llama",
        "organization_id": "default",
        "status": status,
        "hyperparameters": {"n_epochs": 2, "batch_size": "auto"},
        "training_file": "a" * 64,
        "seed": 0,
        "method": {"type": "supervised"},
        "dataset": "support",
        "dataset_version": 3,
        **extra,
    }


def progress(step: int, loss: float) -> dict[str, object]:
    return {
        "object": "fine_tuning.job.event",
        "id": f"ev-{step}",
        "created_at": 1_795_000_000 + step,
        "level": "info",
        "message": f"Step {step}/4, train loss {loss:.4f}",
        "type": "metrics",
        "data": {"type": "job.progress", "step": step, "total_steps": 4, "train_loss": loss},
    }


STARTED = {
    "object": "fine_tuning.job.event",
    "id": "ev-start",
    "created_at": 1_795_000_000,
    "level": "info",
    "message": "Fine-tuning job started",
    "type": "message",
    "data": {"type": "job.started"},
}


def prepare_create(fake: FakeGateway) -> None:
    fake.on("GET", "/v1/datasets", reply(200, {"data": [VERSION, {**VERSION, "version": 2}]}))
    fake.on("GET", "/v1/datasets/dsv_1", reply(200, DETAIL))
    fake.on("POST", "/v1/costs/estimate", reply(200, ESTIMATE))
    fake.on("POST", "/v1/fine_tuning/jobs", reply(200, job("validating_files")))


def test_create_shows_the_estimate_and_stops_when_not_confirmed(
    fake: FakeGateway, runner: CliRunner
) -> None:
    prepare_create(fake)
    result = runner.invoke(
        app,
        ["jobs", "create", "--base-model", "tiny-llama", "--dataset", "support", "--epochs", "2"],
        input="n\n",
    )
    assert result.exit_code == 1
    assert "18,000 trained tokens" in result.stderr
    assert "3.0 min" in result.stderr
    assert "$0.005" in result.stderr
    sent = fake.body("POST", "/v1/costs/estimate")
    assert (sent["model"], sent["epochs"], sent["context_length"]) == ("tiny-llama", 2, 2048)
    counts = sent["example_token_counts"]
    assert (len(counts), sum(counts)) == (90, 9000)
    assert "counted by the exporter (hf:tiny)" in result.stderr
    assert fake.sent("POST", "/v1/fine_tuning/jobs") == []


def test_create_with_yes_queues_the_newest_version(fake: FakeGateway, runner: CliRunner) -> None:
    prepare_create(fake)
    result = runner.invoke(
        app,
        [
            "jobs",
            "create",
            "--base-model",
            "tiny-llama",
            "--dataset",
            "support",
            "--max-steps",
            "4",
            "--yes",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["job"]["id"] == "ftjob-1"
    sent = fake.body("POST", "/v1/fine_tuning/jobs")
    assert (sent["dataset"], sent["dataset_version"]) == ("support", 3)
    assert sent["hyperparameters"] == {"max_steps": 4}


def test_create_counts_with_a_given_tokenizer(fake: FakeGateway, runner: CliRunner) -> None:
    prepare_create(fake)
    result = runner.invoke(
        app,
        [
            "jobs",
            "create",
            "--base-model",
            "m",
            "--dataset",
            "support",
            "--tokenizer",
            "/tok",
            "--yes",
        ],
    )
    assert result.exit_code == 0, result.output
    assert fake.body("POST", "/v1/costs/estimate") == {
        "model": "m",
        "epochs": 3,
        "dataset_sha256": "a" * 64,
        "tokenizer": "/tok",
    }


def test_create_then_follow_waits_for_the_job_to_appear(
    fake: FakeGateway, runner: CliRunner
) -> None:
    prepare_create(fake)
    fake.on(
        "GET",
        "/v1/fine_tuning/jobs/ftjob-1",
        error(404, "job_not_found", "no fine-tuning job"),
        reply(200, job("queued")),
        reply(200, job("succeeded")),
    )
    fake.on("GET", "/v1/fine_tuning/jobs/ftjob-1/events", reply(200, {"data": [STARTED]}))
    result = runner.invoke(
        app, ["jobs", "create", "--base-model", "m", "--dataset", "support", "--yes", "--follow"]
    )
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.stdout


def test_follow_of_an_unknown_job_fails_at_once(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("GET", "/v1/fine_tuning/jobs/nope", error(404, "job_not_found", "no job 'nope'"))
    result = runner.invoke(app, ["jobs", "follow", "nope"])
    assert result.exit_code == 1
    assert "no job 'nope'" in result.stderr
    assert len(fake.sent("GET", "/v1/fine_tuning/jobs/nope")) == 1


def test_create_goes_on_without_an_estimate(fake: FakeGateway, runner: CliRunner) -> None:
    prepare_create(fake)
    fake.on("POST", "/v1/costs/estimate", error(422, "unknown_model", "no tokenizer for x"))
    result = runner.invoke(
        app, ["jobs", "create", "--base-model", "x", "--dataset", "support"], input="y\n"
    )
    assert result.exit_code == 0, result.output
    assert "no cost estimate: no tokenizer for x" in result.stderr
    assert len(fake.sent("POST", "/v1/fine_tuning/jobs")) == 1


def test_create_refuses_an_unknown_dataset(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("GET", "/v1/datasets", reply(200, {"data": []}))
    result = runner.invoke(
        app, ["jobs", "create", "--base-model", "m", "--dataset", "nothing", "--yes"]
    )
    assert result.exit_code == 1
    assert "tuneloop datasets export --name nothing" in result.stderr


def test_follow_shows_progress_and_the_loss_until_the_job_ends(
    fake: FakeGateway, runner: CliRunner
) -> None:
    fake.on(
        "GET",
        "/v1/fine_tuning/jobs/ftjob-1",
        reply(200, job("running")),
        reply(200, job("running")),
        reply(200, job("succeeded", fine_tuned_model="tiny-llama:support:ftjob-1")),
    )
    fake.on(
        "GET",
        "/v1/fine_tuning/jobs/ftjob-1/events",
        reply(200, {"data": [STARTED, progress(1, 2.0)]}),
        reply(200, {"data": [STARTED, progress(1, 2.0), progress(2, 1.0)]}),
        reply(200, {"data": [STARTED, progress(1, 2.0), progress(2, 1.0), progress(4, 0.5)]}),
    )
    result = runner.invoke(app, ["jobs", "follow", "ftjob-1", "--interval", "0.1"])
    assert result.exit_code == 0, result.output
    assert "Fine-tuning job started" in result.stderr
    assert "tiny-llama:support:ftjob-1" in result.stdout
    assert "succeeded" in result.stdout


def test_follow_in_json_prints_each_event_once_then_the_job(
    fake: FakeGateway, runner: CliRunner
) -> None:
    fake.on(
        "GET",
        "/v1/fine_tuning/jobs/ftjob-1",
        reply(200, job("running")),
        reply(200, job("failed", error={"code": "oom", "message": "out of memory"})),
    )
    fake.on(
        "GET",
        "/v1/fine_tuning/jobs/ftjob-1/events",
        reply(200, {"data": [STARTED]}),
        reply(200, {"data": [STARTED, progress(1, 2.0)]}),
    )
    result = runner.invoke(app, ["jobs", "follow", "ftjob-1", "--interval", "0.1", "--json"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["event"]["id"] for line in lines[:-1]] == ["ev-start", "ev-1"]
    assert lines[-1]["job"]["status"] == "failed"


def test_the_watch_keeps_the_losses_in_order() -> None:
    watch = JobWatch()
    watch.new_events([progress(1, 3.0), progress(2, 2.0)])
    assert watch.new_events([progress(1, 3.0), progress(2, 2.0), progress(3, 1.0)]) == [
        progress(3, 1.0)
    ]
    assert (watch.step, watch.total, watch.losses) == (3, 4, [3.0, 2.0, 1.0])
    assert watch.loss_text() == "loss 1.0000 █▅▁"


def test_sparkline_spans_lowest_to_highest() -> None:
    assert sparkline([1.0, 2.0, 3.0]) == "▁▅█"
    assert sparkline([2.0, 2.0]) == "▁▁"
    assert sparkline([]) == ""
    assert len(sparkline([float(i) for i in range(100)], width=40)) == 40


def test_list_show_cancel_and_events(fake: FakeGateway, runner: CliRunner) -> None:
    fake.on("GET", "/v1/fine_tuning/jobs", reply(200, {"data": [job("running")]}))
    fake.on("GET", "/v1/fine_tuning/jobs/ftjob-1", reply(200, job("running")))
    fake.on("POST", "/v1/fine_tuning/jobs/ftjob-1/cancel", reply(200, job("running")))
    fake.on("GET", "/v1/fine_tuning/jobs/ftjob-1/events", reply(200, {"data": [STARTED]}))
    assert "ftjob-1" in runner.invoke(app, ["jobs", "list"]).stdout
    assert json.loads(runner.invoke(app, ["jobs", "show", "ftjob-1", "--json"]).stdout)["id"]
    assert (
        "cancellation of ftjob-1 requested"
        in runner.invoke(app, ["jobs", "cancel", "ftjob-1"]).stdout
    )
    assert "Fine-tuning job started" in runner.invoke(app, ["jobs", "events", "ftjob-1"]).stdout


def test_list_asks_the_gateway_for_the_statuses_and_the_next_page(
    fake: FakeGateway, runner: CliRunner
) -> None:
    page = {"data": [job("queued", id="ftjob-9")], "has_more": True}
    fake.on("GET", "/v1/fine_tuning/jobs", reply(200, page))
    result = runner.invoke(app, ["jobs", "list", "--status", "active", "-s", "failed"])
    assert result.exit_code == 0, result.output
    [sent] = fake.sent("GET", "/v1/fine_tuning/jobs")
    assert sent.url.params.get_list("status") == ["validating_files", "queued", "running", "failed"]
    assert "ftjob-9" in result.stdout
    assert "--status active --status failed --after ftjob-9" in result.stderr
    runner.invoke(app, ["jobs", "list", "--after", "ftjob-9", "--limit", "5"])
    assert fake.sent("GET", "/v1/fine_tuning/jobs")[-1].url.params.multi_items() == [
        ("limit", "5"),
        ("after", "ftjob-9"),
    ]


def test_list_asks_for_one_owners_jobs(fake: FakeGateway, runner: CliRunner) -> None:
    page = {"data": [job("running", id="ftjob-7", owner="k_abc")], "has_more": True}
    fake.on("GET", "/v1/fine_tuning/jobs", reply(200, page))
    result = runner.invoke(app, ["jobs", "list", "--owner", "me", "-s", "running"])
    assert result.exit_code == 0, result.output
    [sent] = fake.sent("GET", "/v1/fine_tuning/jobs")
    assert sent.url.params.get("owner") == "me"
    assert sent.url.params.get_list("status") == ["running"]
    assert "--status running --owner me --after ftjob-7" in result.stderr
    fake.on("GET", "/v1/fine_tuning/jobs", reply(200, {"data": [], "has_more": False}))
    empty = runner.invoke(app, ["jobs", "list", "-o", "k_nobody"])
    assert "no jobs of owner k_nobody" in empty.stdout
    fake.on("GET", "/v1/fine_tuning/jobs/ftjob-7", reply(200, job("running", owner="k_abc")))
    assert "k_abc" in runner.invoke(app, ["jobs", "show", "ftjob-7"]).stdout


def test_list_refuses_an_unknown_status_before_asking(fake: FakeGateway, runner: CliRunner) -> None:
    result = runner.invoke(app, ["jobs", "list", "--status", "done"])
    assert result.exit_code != 0
    assert "no job status 'done'" in result.stderr
    assert fake.sent("GET", "/v1/fine_tuning/jobs") == []
