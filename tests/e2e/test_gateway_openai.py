"""The official ``openai`` SDK against a real stack through the gateway, with keys, scopes
and tenants enforced, and no secret in any log or response."""

import json
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import unique_name
from tests.e2e.test_stack import REPO, TUNELOOP, free_port, healthy, stack_env
from tests.polling import eventually_sync

pytestmark = pytest.mark.e2e

MAX_BODY_BYTES = 256 * 1024
ROW = {
    "messages": [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ]
}
TRAIN = ("\n".join(json.dumps(ROW) for _ in range(40)) + "\n").encode()


@dataclass
class Running:
    url: str
    home: Path
    admin: str
    keys: dict[str, str] = field(default_factory=dict)
    openai_key: str = ""
    clients: list[openai.OpenAI] = field(default_factory=list)

    def client(self, who: str) -> openai.OpenAI:
        return self.sdk(self.keys[who])

    def sdk(self, key: str) -> openai.OpenAI:
        client = openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)
        self.clients.append(client)
        return client

    def create_key(self, name: str, scopes: list[str], tenant: str) -> str:
        response = httpx.post(
            f"{self.url}/v1/keys",
            headers={"Authorization": f"Bearer {self.admin}"},
            json={"name": name, "scopes": scopes, "tenant": tenant},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        key: str = response.json()["key"]
        self.keys[name] = key
        return key


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, models_cache_dir: Path
) -> Iterator[Running]:
    home = tmp_path_factory.mktemp("stack")
    port = free_port()
    openai_key = f"sk-e2e-{secrets.token_hex(16)}"
    process = subprocess.Popen(
        [*TUNELOOP, "up", "--gateway-port", str(port)],
        cwd=REPO,
        env=stack_env(
            home,
            TUNELOOP_BASE_MODEL="tiny-llama",
            TUNELOOP_MODELS_DIR=str(models_cache_dir),
            TUNELOOP_GATEWAY_MAX_BODY_BYTES=str(MAX_BODY_BYTES),
            TUNELOOP_STARTUP_TIMEOUT_SECONDS="240",
            OPENAI_API_KEY=openai_key,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    running = Running(url, home, admin="", openai_key=openai_key)
    try:
        eventually_sync(
            lambda: healthy(url) and (home / "stack.json").exists(),
            timeout=300,
            interval=0.5,
            what="stack up",
        )
        running.admin = (home / "admin.key").read_text().strip()
        running.create_key("acme-admin", ["admin"], "acme")
        running.create_key("acme-infer", ["infer"], "acme")
        running.create_key("acme-reader", ["read"], "acme")
        running.create_key("globex", ["train", "deploy", "infer", "read"], "globex")
        yield running
    finally:
        for client in running.clients:
            client.close()
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    secrets_shown = [k.split("_", 2)[2] for k in running.keys.values()] + [openai_key]
    for log in (home / "logs").glob("*.log"):
        text = log.read_text()
        for secret in secrets_shown:
            assert secret not in text, f"a secret leaked into {log.name}"
    assert all(k not in output for k in running.keys.values())


@pytest.mark.timeout(600)
def test_the_openai_sdk_trains_lists_serves_and_deletes_through_the_gateway(
    running: Running,
) -> None:
    client = running.client("acme-admin")
    uploaded = client.files.create(file=("train.jsonl", TRAIN), purpose="fine-tune")
    assert uploaded.purpose == "fine-tune"
    assert uploaded.bytes == len(TRAIN)
    assert uploaded.id in [f.id for f in client.files.list()]
    assert client.files.retrieve(uploaded.id).filename == "train.jsonl"
    assert client.files.content(uploaded.id).read() == TRAIN

    model_name = unique_name("sdk-bot-").lower()
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=uploaded.id,
        suffix="sdk",
        extra_body={
            "model_name": model_name,
            "hyperparameters": {"max_steps": 4, "batch_size": 4, "checkpoint_steps": 2},
        },
    )
    assert job.object == "fine_tuning.job"
    assert job.organization_id == "acme"
    eventually_sync(
        lambda: job.id in [j.id for j in client.fine_tuning.jobs.list()], what="job listed"
    )
    eventually_sync(
        lambda: client.fine_tuning.jobs.retrieve(job.id).status in {"succeeded", "failed"},
        timeout=240,
        interval=1,
        what="the job to finish",
    )
    finished = client.fine_tuning.jobs.retrieve(job.id)
    assert finished.status == "succeeded", finished.error
    events = client.fine_tuning.jobs.list_events(job.id).data
    assert any("completed" in e.message for e in events)
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id)
    assert all(c.fine_tuning_job_id == job.id for c in checkpoints.data)

    def registered() -> str | None:
        names = [m.id for m in client.models.list()]
        return next((n for n in names if n.startswith(f"{model_name}@")), None)

    eventually_sync(lambda: registered() is not None, timeout=60, what="version registered")
    version = registered()
    assert version is not None
    assert client.models.retrieve(version).id == version
    answer = client.chat.completions.create(
        model=version, messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )
    assert answer.usage is not None
    assert answer.usage.completion_tokens > 0
    stream = client.chat.completions.create(
        model=version, messages=[{"role": "user", "content": "hi"}], max_tokens=4, stream=True
    )
    chunks = list(stream)
    assert chunks
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert client.models.retrieve("tiny-llama").id == "tiny-llama"

    deleted = client.models.delete(version)
    assert deleted.deleted
    eventually_sync(lambda: registered() is None, timeout=30, what="version archived")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve(version)

    second = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=uploaded.id,
        extra_body={"hyperparameters": {"max_steps": 400, "batch_size": 4}},
    )
    eventually_sync(  # the job is recorded when the trainer takes the queued command
        lambda: second.id in [j.id for j in client.fine_tuning.jobs.list()], what="listed"
    )
    client.fine_tuning.jobs.cancel(second.id)
    eventually_sync(
        lambda: client.fine_tuning.jobs.retrieve(second.id).status == "cancelled",
        timeout=120,
        interval=0.5,
        what="the second job cancelled",
    )
    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_keys_scopes_and_tenants_are_enforced_for_sdk_callers(running: Running) -> None:
    acme = running.client("acme-admin")
    uploaded = acme.files.create(file=("acme.jsonl", TRAIN), purpose="fine-tune")
    job = acme.fine_tuning.jobs.create(
        model=str(running.home / "no-such-model"), training_file=uploaded.id
    )

    anonymous = running.sdk("sk-wrong")
    with pytest.raises(openai.AuthenticationError):
        anonymous.models.list()

    infer_only = running.client("acme-infer")
    reply = infer_only.chat.completions.create(
        model="tiny-llama", messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )
    assert reply.choices
    with pytest.raises(openai.PermissionDeniedError) as denied:
        infer_only.files.create(file=("x.jsonl", TRAIN), purpose="fine-tune")
    assert "train" in str(denied.value)
    reader = running.client("acme-reader")
    with pytest.raises(openai.PermissionDeniedError):
        reader.fine_tuning.jobs.cancel(job.id)
    assert reader.fine_tuning.jobs.retrieve(job.id).id == job.id

    globex = running.client("globex")
    with pytest.raises(openai.NotFoundError):
        globex.files.retrieve(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        globex.files.content(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        globex.fine_tuning.jobs.retrieve(job.id)
    with pytest.raises(openai.NotFoundError):
        globex.fine_tuning.jobs.cancel(job.id)
    with pytest.raises(openai.NotFoundError):
        globex.fine_tuning.jobs.create(model="tiny-llama", training_file=uploaded.id)
    assert job.id not in [j.id for j in globex.fine_tuning.jobs.list()]
    assert uploaded.id not in [f.id for f in globex.files.list()]

    with pytest.raises(openai.BadRequestError):
        acme.files.create(file=("../../etc/passwd", TRAIN), purpose="fine-tune")
    too_big = httpx.post(
        f"{running.url}/v1/files",
        headers={"Authorization": f"Bearer {running.keys['acme-admin']}"},
        files={"file": ("big.jsonl", TRAIN * (MAX_BODY_BYTES // len(TRAIN) + 2))},
        data={"purpose": "fine-tune"},
        timeout=30,
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "request_too_large"

    revocable = running.create_key("short-lived", ["read"], "acme")
    key_id = revocable.split("_")[1]
    admin_headers = {"Authorization": f"Bearer {running.keys['acme-admin']}"}
    assert httpx.delete(f"{running.url}/v1/keys/{key_id}", headers=admin_headers).status_code == 204
    revoked = running.sdk(revocable)
    with pytest.raises(openai.AuthenticationError):
        revoked.models.list()

    audit = httpx.get(f"{running.url}/v1/audit", headers=admin_headers, timeout=10).json()
    done = {(e["method"], e["path"], e["key_id"]) for e in audit["data"]}
    acme_admin_id = running.keys["acme-admin"].split("_")[1]
    assert ("POST", "/v1/files", acme_admin_id) in done
    assert ("DELETE", f"/v1/keys/{key_id}", acme_admin_id) in done
    for response in (too_big, httpx.get(f"{running.url}/v1/keys", headers=admin_headers)):
        for key in running.keys.values():
            assert key.split("_", 2)[2] not in response.text
        assert running.openai_key not in response.text


FUZZED_SPECS = ("trainer", "registry", "router", "exporter", "evaluator", "cost")
NOT_FUZZED = r"(completions|/stream)$"
"""Inference has its own tests (fuzzing it would run the model thousands of times) and
streams never end."""


def fuzz(spec: str, running: Running, report: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            spec,
            "--url",
            running.url,
            "--header",
            f"Authorization: Bearer {running.keys['acme-admin']}",
            "--checks",
            "not_a_server_error",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "8",
            "--seed",
            "1",
            "--request-timeout",
            "30",
            "--exclude-path-regex",
            NOT_FUZZED,
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
            "--generation-database",
            "none",
        ],
        cwd=report.parent,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.timeout(1800)
def test_fuzzing_every_api_through_the_gateway_finds_no_server_error(
    running: Running, tmp_path: Path
) -> None:
    specs = [f"{running.url}/openapi.json"] + [
        str(REPO / "contracts" / "openapi" / f"{name}.json") for name in FUZZED_SPECS
    ]
    failures = []
    for spec in specs:
        result = fuzz(spec, running, tmp_path / f"{Path(spec).stem}.xml")
        if result.returncode != 0:
            failures.append(f"{spec}:\n{result.stdout[-3000:]}{result.stderr[-1000:]}")
    assert not failures, "\n\n".join(failures)
