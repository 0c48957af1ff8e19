"""The ``tuneloop`` CLI as a user runs it, against the whole stack started by ``tuneloop up``."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_stack import REPO, TUNELOOP, free_port, stack_env, wait_until_up
from tests.polling import eventually_sync

# The module's first test also waits for the stack (and the tiny model) to come up.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


class Cli:
    """Runs ``python -m tuneloop ...`` against one gateway, as a separate process."""

    def __init__(self, url: str, home: Path):
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TUNELOOP_")},
            "TUNELOOP_URL": url,
            "TUNELOOP_HOME": str(home),
            "TUNELOOP_CONFIG": str(home / "cli.toml"),
            "COLUMNS": "200",
        }
        (home / "cli.toml").write_text("timeout_seconds = 120\n")

    def __call__(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tuneloop", *args],
            cwd=REPO,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def json(self, *args: str) -> object:
        result = self(*args, "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def cli(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, models_cache_dir: Path
) -> Iterator[Cli]:
    home = tmp_path_factory.mktemp("cli-stack")
    port = free_port()
    env = stack_env(
        home,
        TUNELOOP_BASE_MODEL="tiny-llama",
        TUNELOOP_MODELS_DIR=str(models_cache_dir),
        TUNELOOP_EXPORTER_MIN_EXAMPLES="5",
    )
    process = subprocess.Popen(
        [*TUNELOOP, "up", "--gateway-port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", home)
        yield Cli(f"http://127.0.0.1:{port}", home)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=90)
        assert process.returncode == 0, output


def ticket_rows(count: int, tag: str) -> str:
    return "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Answer support tickets in one sentence."},
                    {"role": "user", "content": f"Where is my parcel {tag}-{i}? It is late."},
                    {
                        "role": "assistant",
                        "content": f"Parcel {tag}-{i} left the depot today and arrives tomorrow.",
                    },
                ],
                "rating": 5,
                "gold_star": i % 2 == 0,
            }
        )
        + "\n"
        for i in range(count)
    )


def test_a_bad_file_is_refused_with_a_table_of_row_errors(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        ticket_rows(2, "bad")
        + '{"messages": [{"role": "user", "content": "no answer here at all"}]}\n'
        + "{not json\n"
    )
    result = cli("datasets", "upload", str(bad))
    assert result.returncode == 1, result.stdout
    assert "nothing was stored" in result.stderr
    for column in ("line", "field", "code", "message"):
        assert column in result.stderr
    assert "│ 3 " in result.stderr
    assert "│ 4 " in result.stderr
    assert "Traceback" not in result.stderr

    as_json = cli("datasets", "upload", str(bad), "--json")
    assert as_json.returncode == 1
    body = json.loads(as_json.stdout)
    assert body["error"]["code"] == "invalid_rows"
    assert sorted({e["line"] for e in body["error"]["errors"]}) == [3, 4]


def test_upload_export_list_and_train_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(ticket_rows(12, "good"))
    uploaded = cli("datasets", "upload", str(good), "--domain", "cli-e2e")
    assert uploaded.returncode == 0, uploaded.stderr
    assert "stored 12 row(s)" in uploaded.stdout

    exported = cli("datasets", "export", "--name", "cli-e2e", "--domain", "cli-e2e", "--gold-only")
    assert exported.returncode == 0, exported.stderr
    assert "exported cli-e2e v1" in exported.stdout

    versions = cli.json("datasets", "list", "--dataset", "cli-e2e")
    assert isinstance(versions, list)
    assert [(v["dataset"], v["version"], v["train_rows"] + v["test_rows"]) for v in versions] == [
        ("cli-e2e", 1, 6)
    ]
    detail = cli.json("datasets", "show", versions[0]["id"])
    assert isinstance(detail, dict)
    assert detail["manifest"]["filters"]["gold_star_only"] is True

    def created() -> bool:
        result = cli(
            "jobs",
            "create",
            "--base-model",
            "tiny-llama",
            "--dataset",
            "cli-e2e",
            "--max-steps",
            "3",
            "--batch-size",
            "2",
            "--model-name",
            "cli-e2e",
            "--yes",
            "--json",
        )
        if result.returncode == 0:
            created.job = json.loads(result.stdout)["job"]  # type: ignore[attr-defined]
            return True
        assert "dataset_not_found" in result.stdout, result.stdout + result.stderr
        return False

    eventually_sync(created, timeout=60, interval=0.5, what="the trainer knowing the dataset")
    job_id = created.job["id"]  # type: ignore[attr-defined]

    followed = cli("jobs", "follow", job_id, "--interval", "0.5")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert "succeeded" in followed.stdout
    assert "Fine-tuning job started" in followed.stderr

    events = cli.json("jobs", "events", job_id)
    assert isinstance(events, list)
    assert any(e["data"].get("type") == "job.progress" for e in events)

    def registered() -> bool:
        models = cli.json("models", "list")
        assert isinstance(models, list)
        return any(m["name"] == "cli-e2e" and m["latest_version"] == 1 for m in models)

    eventually_sync(registered, timeout=30, interval=0.5, what="the model registered")
    listed = cli("models", "list")
    assert "cli-e2e" in listed.stdout
    versions_shown = cli("models", "show", "cli-e2e")
    assert versions_shown.returncode == 0, versions_shown.stderr
    assert "ready" in versions_shown.stdout or "deployed" in versions_shown.stdout


def test_an_unknown_job_is_a_clean_error(cli: Cli) -> None:
    result = cli("jobs", "show", "ftjob-nope")
    assert result.returncode == 1
    assert "no fine-tuning job 'ftjob-nope'" in result.stderr
    assert json.loads(cli("jobs", "show", "ftjob-nope", "--json").stdout)["error"]["code"] == (
        "job_not_found"
    )
