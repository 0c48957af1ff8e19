"""Child processes that never outlive their parent.

On Linux each child asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``),
so even a ``kill -9`` of the supervisor leaves no orphans. Children run in their own process
group: a terminal's Ctrl-C reaches only the supervisor, which stops them in order.
"""

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

logger = logging.getLogger("tuneloop.supervision")

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child before exec: ask for SIGTERM when the parent process dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def child_preexec(extra: Callable[[], None] | None = None) -> Callable[[], None]:
    def preexec() -> None:
        die_with_parent()
        if extra is not None:
            extra()

    return preexec


class ManagedProcess:
    """A child process with a name, a log file and a graceful stop."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.log_path = log_path
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> None:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else None,
            preexec_fn=child_preexec(),
            process_group=0,
        )

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def signal(self, signum: int) -> None:
        if self.running():
            assert self.popen is not None
            self.popen.send_signal(signum)

    def wait(self, timeout: float) -> bool:
        """Wait for the process to exit; True if it did."""
        if self.popen is None:
            return True
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self, grace_seconds: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``grace_seconds``, then SIGKILL the whole process group."""
        if self.popen is None:
            return None
        if self.running():
            self.signal(signal.SIGTERM)
            if not self.wait(grace_seconds):
                logger.warning("%s did not stop within %.0fs; killing it", self.name, grace_seconds)
                self.kill()
        self._close_log()
        return self.popen.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self._close_log()

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (another process could still take it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


__all__ = ["ManagedProcess", "child_preexec", "die_with_parent", "free_port", "wait_until"]
