"""A vLLM server (the CPU build) serving one base model with runtime LoRA loading.

vLLM lives in its own virtual environment, made by ``scripts/ensure-vllm`` (it pins its own
torch and transformers). The server listens on 127.0.0.1, loads adapters at run time through
``POST /v1/load_lora_adapter`` and stops with its engine processes when stopped.
"""

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import httpx

from libs.supervision.process import ManagedProcess, free_port, wait_until

READY_TIMEOUT_SECONDS = 600.0
"""Most of a minute on an idle machine of 2 cores; several on a busy one."""
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIM_MODULE = "tuneloop_vllm"


class VllmNotInstalled(RuntimeError):
    pass


class VllmFailed(RuntimeError):
    pass


def vllm_venv() -> Path:
    """``$TUNELOOP_VLLM_VENV``, else ``.venv-vllm`` beside the project."""
    configured = os.environ.get("TUNELOOP_VLLM_VENV")
    return Path(configured).expanduser() if configured else PROJECT_ROOT / ".venv-vllm"


def vllm_python(venv: Path | None = None) -> Path:
    """The interpreter of the vLLM environment; a clear error when it is not there."""
    venv = venv or vllm_venv()
    python = venv / "bin" / "python"
    if not python.is_file() or not any(venv.glob(".tuneloop-vllm-*")):
        raise VllmNotInstalled(
            f"vLLM is not installed in {venv}; run ./scripts/ensure-vllm "
            "(once, a few minutes) or point TUNELOOP_VLLM_VENV at an environment it made"
        )
    return python


@dataclass(frozen=True)
class VllmOptions:
    """What the server serves and how much of the machine it may take."""

    model_dir: Path
    served_model_name: str
    max_model_len: int = 256
    max_loras: int = 4
    max_lora_rank: int = 8
    dtype: str = "float32"
    kv_cache_gib: int = 1
    threads: int = 1
    niceness: int = 10

    def arguments(self, port: int) -> list[str]:
        return [
            "serve",
            str(self.model_dir),
            "--served-model-name",
            self.served_model_name,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dtype",
            self.dtype,
            "--max-model-len",
            str(self.max_model_len),
            "--enable-lora",
            "--max-loras",
            str(self.max_loras),
            "--max-lora-rank",
            str(self.max_lora_rank),
            "--max-num-seqs",
            "16",
        ]

    def environment(self) -> dict[str, str]:
        return {
            "VLLM_TARGET_DEVICE": "cpu",
            "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True",
            "VLLM_CPU_KVCACHE_SPACE": str(self.kv_cache_gib),
            "VLLM_CPU_OMP_THREADS_BIND": "nobind",
            "OMP_NUM_THREADS": str(self.threads),
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


def resident_of(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class VllmServer:
    """``vllm serve`` as a child process; :meth:`start` returns once ``/health`` answers."""

    def __init__(self, options: VllmOptions, log_path: Path, venv: Path | None = None) -> None:
        self.options = options
        self.log_path = log_path
        self.venv = venv
        self.process: ManagedProcess | None = None
        self.url = ""

    def start(self, timeout: float = READY_TIMEOUT_SECONDS) -> str:
        python = vllm_python(self.venv)
        port = free_port()
        argv = ["nice", "-n", str(self.options.niceness), str(python), "-m", SHIM_MODULE]
        self.process = ManagedProcess(
            "vllm",
            [*argv, *self.options.arguments(port)],
            env={**os.environ, **self.options.environment()},
            log_path=self.log_path,
        )
        self.process.start()
        self.url = f"http://127.0.0.1:{port}"
        if not wait_until(self._ready_or_dead, timeout, interval=0.5) or not self.healthy():
            tail = self.process.log_tail(30)
            self.stop()
            raise VllmFailed(f"vLLM did not become healthy within {timeout:.0f}s:\n{tail}")
        return self.url

    def _ready_or_dead(self) -> bool:
        return self.process is None or not self.process.running() or self.healthy()

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def resident_bytes(self) -> int:
        """Resident memory of the server and its engine processes together (Linux)."""
        return sum(resident_of(pid) for pid in process_tree(self.pid)) if self.pid else 0

    def stop(self) -> None:
        """SIGTERM (vLLM stops its engine), then SIGKILL whatever is left of its group."""
        if self.process is None:
            return
        pid = self.process.pid
        self.process.stop(grace_seconds=20)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self.process = None

    def __enter__(self) -> "VllmServer":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


__all__ = [
    "VllmFailed",
    "VllmNotInstalled",
    "VllmOptions",
    "VllmServer",
    "vllm_python",
    "vllm_venv",
]
