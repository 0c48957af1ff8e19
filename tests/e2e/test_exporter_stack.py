"""The exporter inside `tuneloop up`: examples in over HTTP, a dataset version out."""

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_stack import REPO, TUNELOOP, free_ports, stack_env, wait_until_up
from tests.polling import eventually_sync

pytestmark = pytest.mark.e2e


@pytest.fixture
def gateway(
    tmp_path: Path, exporter_tokenizer_dir: Path, tiny_model_dir: Path, models_cache_dir: Path
) -> Iterator[tuple[str, str]]:
    """The running stack's gateway URL and its first admin key."""
    port, exporter_port = free_ports(2)
    env = stack_env(  # the tiny base model, built once: the stack need not prepare SmolLM2
        tmp_path,
        TUNELOOP_BASE_MODEL="tiny-llama",
        TUNELOOP_MODELS_DIR=str(models_cache_dir),
        TUNELOOP_EXPORTER_PORT=str(exporter_port),
        TUNELOOP_EXPORTER_TOKENIZER=str(exporter_tokenizer_dir),
        TUNELOOP_EXPORTER_CONTEXT_LENGTH="512",
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
        wait_until_up(f"http://127.0.0.1:{port}", tmp_path)
        key = (tmp_path / "admin.key").read_text().strip()
        yield f"http://127.0.0.1:{port}", key
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output


def rows(count: int) -> bytes:
    return b"".join(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"How do I return the jacket from order {i}?"},
                    {
                        "role": "assistant",
                        "content": f"Print the label for order {i} and drop it at any depot.",
                    },
                ],
                "rating": 5,
            }
        ).encode()
        + b"\n"
        for i in range(count)
    )


def test_upload_then_export_in_the_running_stack(gateway: tuple[str, str]) -> None:
    url, key = gateway
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        upload = client.post(
            "/v1/datasets/uploads",
            params={"domain": "returns"},
            files={"file": ("rows.jsonl", rows(25))},
        )
        assert upload.status_code == 201, upload.text
        assert upload.json()["total_warnings"] == 25  # no system message
        accepted = client.post(
            "/v1/datasets/exports", json={"name": "returns", "format": "sharegpt"}
        )
        assert accepted.status_code == 202, accepted.text
        status_url = f"/v1/datasets/exports/{accepted.json()['id']}"
        eventually_sync(
            lambda: client.get(status_url).json()["status"] in ("succeeded", "failed"),
            timeout=120,
            what="the export finished",
        )
        status = client.get(status_url).json()
        assert status["status"] == "succeeded", status
        export = client.get(f"/v1/datasets/{status['dataset_id']}")
        assert export.status_code == 200, export.text
        manifest = export.json()["manifest"]
        assert manifest["tokenizer"].startswith("hf:")
        assert manifest["splits"]["train"]["domains"] == {"returns": export.json()["train_rows"]}
        listed = client.get("/v1/datasets").json()["data"]
        assert [(d["dataset"], d["format"]) for d in listed] == [("returns", "sharegpt")]
