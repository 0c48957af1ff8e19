"""``tuneloop up --flywheel --quick``: the whole loop on the tiny model, checked through the API."""

import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_stack import REPO, TUNELOOP, free_port, stack_env
from tests.polling import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

MODEL = "support-triage"
ADMIN_KEYS: dict[str, Path] = {}
"""The home (holding ``admin.key``) of each running stack, by gateway URL."""


class Output:
    """The stack's output, read line by line in the background."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def flywheel_stack(
    tmp_path: Path, tiny_model_dir: Path, models_cache_dir: Path
) -> Iterator[tuple[subprocess.Popen[str], Output, str, Path]]:
    port = free_port()
    process = subprocess.Popen(
        [*TUNELOOP, "up", "--flywheel", "--quick", "--gateway-port", str(port)],
        cwd=REPO,
        env=stack_env(tmp_path, TUNELOOP_MODELS_DIR=str(models_cache_dir), COLUMNS="160"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    url = f"http://127.0.0.1:{port}"
    ADMIN_KEYS[url] = tmp_path
    yield process, output, url, tmp_path
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    output.thread.join(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def get(url: str, path: str) -> Any:
    home = ADMIN_KEYS[url]
    key = (home / "admin.key").read_text().strip()
    response = httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_flywheel_turns_end_to_end(flywheel_stack) -> None:  # type: ignore[no-untyped-def]
    process, output, url, home = flywheel_stack
    eventually_sync(
        lambda: (
            "The flywheel turned" in output.text
            or "flywheel stopped" in output.text
            or process.poll() is not None
        ),
        timeout=840,
        interval=1,
        what="the flywheel to finish",
    )
    assert "The flywheel turned" in output.text, output.text
    assert process.poll() is None, "the stack stays up after the flywheel"
    record = json.loads((home / "flywheel" / "last-run.json").read_text())

    assert record["captured"] == record["live_requests"] > 0
    datasets = get(url, "/v1/datasets")["data"]
    dataset = next(d for d in datasets if d["id"] == record["dataset_id"])
    assert dataset["train_rows"] + dataset["test_rows"] == record["dataset_rows"]
    assert record["dataset_rows"] >= 10
    # every exported example is a gold star: captured ones rated 5 or corrections
    assert record["dataset_rows"] <= record["gold_stars"] + record["corrections"]

    job = get(url, f"/v1/fine_tuning/jobs/{record['job_id']}")
    assert job["status"] == "succeeded"
    assert job["dataset"] == dataset["dataset"]

    versions = get(url, f"/v1/registry/models/{MODEL}/versions")
    tuned = next(v for v in versions if v["job_id"] == record["job_id"])
    assert tuned["serving_name"] == record["tuned_serving_name"]
    assert tuned["artifact_sha256"] is not None
    history = get(url, f"/v1/registry/models/{MODEL}/history")
    assert any(
        h["action"] == "deploy"
        and h["alias"] == "candidate"
        and h["to_version"] == tuned["version"]
        for h in history
    )

    experiments = get(url, "/v1/experiments")
    experiment = next(e for e in experiments if e["id"] == record["experiment_id"])
    assert {v["serving_name"] for v in experiment["variants"]} == {
        record["control_serving_name"],
        record["tuned_serving_name"],
    }
    view = get(url, f"/v1/evaluations/experiments/{record['experiment_id']}")
    assert view["status"] == "concluded"
    assert view["verdict"] == record["verdict"] is not None
    assert sum(arm["requests"] for arm in view["arms"]) > 0
    production = get(url, f"/v1/registry/models/{MODEL}/aliases/production")
    if record["verdict"] == "treatment_wins":
        assert production["serving_name"] == record["tuned_serving_name"]
        assert record["promoted"]
    else:
        assert production["serving_name"] == record["control_serving_name"]

    assert record["roi"]["verdict"]
    assert "ROI of the fine-tuned version" in output.text
    assert f"{url}/" in output.text

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
