"""``tuneloop up`` as a user runs it: every service healthy, clean stop, one-line errors."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contracts.services import SERVICE_NAMES
from tests.polling import eventually_sync

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TUNELOOP = [sys.executable, "-m", "tuneloop"]


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (each socket stays bound until all are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def stack_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUNELOOP_", "OTEL_"))}
    env.update({"TUNELOOP_HOME": str(home), "TUNELOOP_LOG_FORMAT": "json", **extra})
    return env


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.fixture
def stack(
    tmp_path: Path, tiny_model_dir: Path, models_cache_dir: Path
) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    port = free_port()
    process = subprocess.Popen(
        [*TUNELOOP, "up", "--gateway-port", str(port)],
        cwd=REPO,
        env=stack_env(
            tmp_path, TUNELOOP_BASE_MODEL="tiny-llama", TUNELOOP_MODELS_DIR=str(models_cache_dir)
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process, f"http://127.0.0.1:{port}", tmp_path
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    if process.stdout is not None:
        process.stdout.close()


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_up(url: str, home: Path) -> None:
    """Healthy, and the stack has recorded its processes."""
    eventually_sync(
        lambda: healthy(url) and (home / "stack.json").exists(),
        timeout=90,
        interval=0.25,
        what="stack up",
    )


def test_up_starts_every_service_and_ctrl_c_stops_them_all(stack) -> None:  # type: ignore[no-untyped-def]
    process, url, home = stack
    wait_until_up(url, home)

    body = httpx.get(f"{url}/healthz", timeout=5).json()
    assert body["status"] == "ok"
    assert set(body["services"]) == set(SERVICE_NAMES)
    for name, service in body["services"].items():
        assert service["checks"] == {"nats": "ok", "database": "ok"}, name
    state = json.loads((home / "stack.json").read_text())
    pids = [*state["services"].values(), state["nats_pid"]]
    assert len(set(pids)) == len(SERVICE_NAMES) + 2  # the services, the engine, NATS
    assert set(state["services"]) == {*SERVICE_NAMES, "engine"}

    metrics = httpx.get(f"{url}/metrics/", timeout=5)
    assert metrics.status_code == 200
    assert "process_resident_memory_bytes" in metrics.text
    key = (home / "admin.key").read_text().strip()
    assert key.startswith("tl_")
    assert stat.S_IMODE((home / "admin.key").stat().st_mode) == 0o600
    auth = {"Authorization": f"Bearer {key}"}
    without_key = httpx.get(f"{url}/v1/registry/models", timeout=5)
    assert without_key.status_code == 401
    through_gateway = httpx.get(
        f"{url}/v1/registry/models", headers={**auth, "X-Tuneloop-Tenant": "e2e"}, timeout=5
    )
    assert through_gateway.status_code == 200
    assert through_gateway.json() == []

    def answered() -> bool:
        reply = httpx.post(
            f"{url}/v1/chat/completions",
            headers=auth,
            timeout=60,
            json={
                "model": "tiny-llama",
                "max_tokens": 4,
                "messages": [{"role": "user", "content": "hello"}],
            },
        )
        return reply.status_code == 200 and reply.json()["usage"]["completion_tokens"] > 0

    eventually_sync(answered, timeout=120, interval=0.5, what="the engine answering")
    registry_url = body["services"]["registry"]["http_url"]
    assert httpx.get(f"{registry_url}/livez", timeout=5).json()["service"] == "registry"

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "stopped" in output
    assert output.count(key) == 1, "the first admin key is printed once"
    secret = key.split("_", 2)[2]
    for log in (home / "logs").glob("*.log"):
        assert secret not in log.read_text(), f"the admin key leaked into {log.name}"
    eventually_sync(lambda: not any(alive(pid) for pid in pids), timeout=15, what="no process left")
    assert not (home / "stack.json").exists()


def test_a_crashed_service_is_restarted(stack) -> None:  # type: ignore[no-untyped-def]
    _process, url, home = stack
    wait_until_up(url, home)
    pid = json.loads((home / "stack.json").read_text())["services"]["cost"]
    os.kill(pid, signal.SIGKILL)

    def cost_restarted() -> bool:
        body = httpx.get(f"{url}/healthz", timeout=5).json()
        cost = body["services"]["cost"]
        return bool(cost["status"] == "ok" and cost["pid"] != pid)

    eventually_sync(cost_restarted, timeout=60, interval=0.25, what="cost restarted")


def run_up(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TUNELOOP, "up", "--gateway-port", str(free_port())],
        cwd=REPO,
        env=stack_env(home, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"TUNELOOP_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
            "TUNELOOP_DATABASE_URL",
        ),
        ({"TUNELOOP_DATABASE_URL": "mysql://nobody@localhost/none"}, "TUNELOOP_DATABASE_URL"),
        ({"TUNELOOP_NATS_URL": "nats://127.0.0.1:1"}, "TUNELOOP_NATS_URL"),
    ],
)
def test_a_broken_dependency_fails_fast_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run_up(tmp_path, **env)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert expected in errors[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "logs").exists(), "no service was started"


def test_a_busy_gateway_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*TUNELOOP, "up", "--gateway-port", str(port)],
            cwd=REPO,
            env=stack_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port} is already in use" in result.stderr
