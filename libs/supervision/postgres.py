"""A disposable PostgreSQL cluster for tests and local runs.

:class:`ThrowawayPostgres` runs ``initdb`` into a fresh temporary directory, starts ``postgres``
in the foreground on a free ``127.0.0.1`` port with durability switched off, and on
:meth:`~ThrowawayPostgres.stop` shuts the server down and deletes everything it created::

    with ThrowawayPostgres() as pg:
        pg.create_database("orders_test")
        engine = create_async_engine(pg.dsn("orders_test"))

The binaries come from ``pg_config --bindir``, else from the newest ``/usr/lib/postgresql/*/bin``.
PostgreSQL refuses to run as root, so when the effective uid is 0 the server-side programs run
as the ``postgres`` system user and the temporary directories are chowned to it.

On Linux the server is given ``PR_SET_PDEATHSIG`` so it shuts down if the Python process dies
without calling ``stop()`` (the temporary directory is then left behind). The kernel sends that
signal when the *thread* that started the server exits, so call ``start()`` from a long-lived
thread, normally the main one, not from a short-lived worker thread.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "PostgresNotFound",
    "PostgresStartError",
    "ThrowawayPostgres",
    "find_postgres_bindir",
]

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"
"""Database superuser created by ``initdb``; also the OS account used when running as root."""

LISTEN_ADDRESS = "127.0.0.1"
DEFAULT_STARTUP_TIMEOUT = 30.0
DEFAULT_SHUTDOWN_TIMEOUT = 10.0

# SIGINT is PostgreSQL's "fast" shutdown: it disconnects clients and exits at once. SIGTERM is
# "smart" shutdown, which waits for every client to disconnect, so one connection left open by a
# test (an engine that was never disposed) would turn each stop into a wait for the SIGKILL.
GRACEFUL_SHUTDOWN_SIGNAL = signal.SIGINT
PARENT_DEATH_SIGNAL = signal.SIGINT

_INSTALL_HINT = (
    "Install the PostgreSQL server: `apt-get install postgresql` on Debian/Ubuntu "
    "(`brew install postgresql` on macOS), or put the pg_config of an installed server on PATH."
)
_DEBIAN_BINDIR_PATTERN = "/usr/lib/postgresql/*/bin"
_REQUIRED_PROGRAMS = ("initdb", "postgres", "pg_isready", "createdb")
_SERVER_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    f"listen_addresses={LISTEN_ADDRESS}",
)
_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,62}")
_PORT_TAKEN_MESSAGE = "Address already in use"
_PORT_ATTEMPTS = 3
_READY_POLL_INTERVAL = 0.05
_LOG_TAIL_LINES = 30
_INITDB_TIMEOUT = 120.0
_CLIENT_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries on this machine; the message says what to install."""


class PostgresStartError(RuntimeError):
    """The throwaway cluster could not be created or started; the message has the server log."""


# --------------------------------------------------------------------------- finding binaries


def find_postgres_bindir() -> Path:
    """The directory holding ``initdb`` and ``postgres``, or raise :class:`PostgresNotFound`."""
    for candidate in (_bindir_from_pg_config(), _newest_debian_bindir()):
        if candidate is not None and _has_required_programs(candidate):
            return candidate
    raise PostgresNotFound(
        f"PostgreSQL server binaries (initdb, postgres) not found. {_INSTALL_HINT}"
    )


def _bindir_from_pg_config() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        completed = subprocess.run(
            [pg_config, "--bindir"],
            capture_output=True,
            text=True,
            timeout=_CLIENT_TIMEOUT,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    bindir = completed.stdout.strip()
    return Path(bindir) if bindir else None


def _newest_debian_bindir() -> Path | None:
    bindirs = [Path(match) for match in glob.glob(_DEBIAN_BINDIR_PATTERN)]
    return max(bindirs, key=_major_version_of_bindir, default=None)


def _major_version_of_bindir(bindir: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/9.6/bin`` -> ``(9, 6)``; unparsable names sort first."""
    version = bindir.parent.name
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return ()


def _has_required_programs(bindir: Path) -> bool:
    return all(os.access(bindir / program, os.X_OK) for program in _REQUIRED_PROGRAMS)


# --------------------------------------------------------------------------- accounts and dirs


@dataclass(frozen=True)
class _Account:
    """The OS account the server-side programs run as when we are root."""

    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class _ClusterDirs:
    base: Path
    data: Path
    socket: Path
    log: Path


def _server_account() -> _Account | None:
    """``None`` when not root (run as ourselves), else the ``postgres`` system account."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresNotFound(
            f"running as root, but there is no '{SUPERUSER}' system user to "
            f"run the server as (initdb refuses root). {_INSTALL_HINT}"
        ) from None
    return _Account(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


def _make_cluster_dirs(parent: Path | None, account: _Account | None) -> _ClusterDirs:
    """A fresh ``mkdtemp`` holding ``data/``, ``socket/`` and the log, owned by ``account``."""
    parent = Path(tempfile.gettempdir()) if parent is None else parent
    if account is not None:
        _require_reachable(parent, account)
    base = Path(tempfile.mkdtemp(prefix="tuneloop-pg-", dir=parent))
    dirs = _ClusterDirs(
        base=base, data=base / "data", socket=base / "socket", log=base / "postgres.log"
    )
    try:
        for directory in (dirs.data, dirs.socket):
            directory.mkdir(mode=0o700)
        if account is not None:
            for path in (dirs.base, dirs.data, dirs.socket):
                os.chown(path, account.uid, account.gid)
    except BaseException:
        _remove_tree(base)
        raise
    return dirs


def _require_reachable(directory: Path, account: _Account) -> None:
    """Fail early, with a hint, if ``account`` cannot traverse ``directory`` and its parents."""
    for ancestor in (directory.resolve(), *directory.resolve().parents):
        if not _can_traverse(ancestor, account):
            raise PostgresStartError(
                f"the '{account.name}' user cannot enter {ancestor}, so it cannot use a cluster "
                f"directory under {directory}; point TMPDIR (or temp_parent=) at a directory "
                f"it can reach, such as /tmp"
            )


def _can_traverse(directory: Path, account: _Account) -> bool:
    info = directory.stat()
    if info.st_uid == account.uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == account.gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _pick_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LISTEN_ADDRESS, 0))
        port: int = probe.getsockname()[1]
        return port


# --------------------------------------------------------------------------- spawning children


def _client_environment() -> dict[str, str]:
    """Our environment without ``PG*`` variables, which would redirect libpq and the server."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _parent_death_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that signals the child when this process dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent_pid = os.getpid()

    def ask_kernel_to_signal_child_when_parent_dies() -> None:
        # subprocess switches uid/gid (user=, group=) *before* calling preexec_fn, which matters
        # because any credential change clears the parent-death signal.
        prctl(_PR_SET_PDEATHSIG, int(PARENT_DEATH_SIGNAL), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return ask_kernel_to_signal_child_when_parent_dies


@dataclass(frozen=True)
class _Spawner:
    """Starts server-side programs as the right user, in a reachable cwd, tied to our life."""

    bindir: Path
    account: _Account | None
    cwd: Path

    def run(
        self,
        program: str,
        arguments: Sequence[str],
        timeout: float,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / program), *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
            env=_client_environment(),
            preexec_fn=_parent_death_hook(),
            user=self._uid,
            group=self._gid,
            extra_groups=self._extra_groups,
        )

    def start_server(self, arguments: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
        """Start ``postgres`` in the foreground, in its own session, logging to ``log``."""
        with log.open("wb") as log_file:
            return subprocess.Popen(
                [str(self.bindir / "postgres"), *arguments],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                env=_client_environment(),
                preexec_fn=_parent_death_hook(),
                start_new_session=True,
                user=self._uid,
                group=self._gid,
                extra_groups=self._extra_groups,
            )

    @property
    def _uid(self) -> int | None:
        return None if self.account is None else self.account.uid

    @property
    def _gid(self) -> int | None:
        return None if self.account is None else self.account.gid

    @property
    def _extra_groups(self) -> list[int] | None:
        """Drop root's supplementary groups; only root may call setgroups()."""
        return None if self.account is None else []


# --------------------------------------------------------------------------- cluster lifecycle


def _initialise_data_dir(spawner: _Spawner, dirs: _ClusterDirs) -> None:
    completed = spawner.run(
        "initdb",
        [
            "-D",
            str(dirs.data),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        timeout=_INITDB_TIMEOUT,
    )
    if completed.returncode != 0:
        raise PostgresStartError(
            f"initdb failed with exit code {completed.returncode}:\n"
            f"{completed.stdout}{completed.stderr}"
        )


def _server_arguments(dirs: _ClusterDirs, port: int) -> list[str]:
    arguments = ["-D", str(dirs.data), "-p", str(port), "-k", str(dirs.socket)]
    for setting in _SERVER_SETTINGS:
        arguments += ["-c", setting]
    return arguments


def _start_server_on_a_free_port(
    spawner: _Spawner,
    dirs: _ClusterDirs,
    timeout: float,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start and await readiness, retrying on a new port if another process grabbed ours."""
    attempt = 1
    while True:
        port = _pick_free_port()
        process = spawner.start_server(_server_arguments(dirs, port), dirs.log)
        try:
            _wait_until_accepting(spawner, process, port, dirs.log, timeout)
        except BaseException as exc:
            _shut_down(process, timeout=DEFAULT_SHUTDOWN_TIMEOUT)
            if not (
                isinstance(exc, PostgresStartError)
                and attempt < _PORT_ATTEMPTS
                and _PORT_TAKEN_MESSAGE in _log_tail(dirs.log)
            ):
                raise
            logger.info("port %d was taken before postgres could bind it; retrying", port)
            attempt += 1
        else:
            return process, port


def _wait_until_accepting(
    spawner: _Spawner, process: subprocess.Popen[bytes], port: int, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise PostgresStartError(
                f"postgres exited with code {process.returncode} while "
                f"starting; server log:\n{_log_tail(log)}"
            )
        if _accepts_connections(spawner, port):
            return
        if time.monotonic() >= deadline:
            raise PostgresStartError(
                f"postgres did not accept connections on port {port} "
                f"within {timeout:g} s; server log:\n{_log_tail(log)}"
            )
        time.sleep(_READY_POLL_INTERVAL)


def _accepts_connections(spawner: _Spawner, port: int) -> bool:
    """``pg_isready`` over TCP: exit code 0 means the server is up and accepting sessions."""
    try:
        completed = spawner.run(
            "pg_isready",
            [
                "-q",
                "-h",
                LISTEN_ADDRESS,
                "-p",
                str(port),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
                "-t",
                "1",
            ],
            timeout=5.0,
        )
    except subprocess.TimeoutExpired:
        return False
    return completed.returncode == 0


def _log_tail(log: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(server log {log} unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


def _shut_down(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Graceful signal, then SIGKILL after ``timeout``; never leaves a backend behind."""
    if process.poll() is not None:
        return
    process.send_signal(GRACEFUL_SHUTDOWN_SIGNAL)
    try:
        process.wait(timeout=timeout)
        return  # a postmaster that exits by itself has already waited for all its children
    except subprocess.TimeoutExpired:
        logger.warning(
            "postgres (pid %d) ignored shutdown for %g s; killing it", process.pid, timeout
        )
    backends = _child_pids(process.pid)
    process.kill()
    process.wait(timeout=timeout)
    _kill_stragglers(backends, timeout)


def _child_pids(parent: int) -> list[int]:
    """Children of ``parent`` according to ``/proc`` (empty where there is no ``/proc``)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    pids = (int(entry) for entry in entries if entry.isdigit())
    return [pid for pid in pids if (fields := _proc_stat(pid)) is not None and fields[2] == parent]


def _kill_stragglers(pids: Sequence[int], timeout: float) -> None:
    """Backends notice their postmaster's death by themselves; SIGKILL the ones that don't."""
    deadline = time.monotonic() + timeout
    while alive := [pid for pid in pids if _is_running_postgres(pid)]:
        if time.monotonic() >= deadline:
            for pid in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return
        time.sleep(_READY_POLL_INTERVAL)


def _is_running_postgres(pid: int) -> bool:
    """True for a live (not zombie) process still named ``postgres``; guards against pid reuse."""
    fields = _proc_stat(pid)
    return fields is not None and fields[0] == "postgres" and fields[1] not in {"Z", "X"}


def _proc_stat(pid: int) -> tuple[str, str, int] | None:
    """``(name, state, parent pid)`` from ``/proc/<pid>/stat``, or ``None`` if it is gone."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name_end = stat_line.rindex(")")
    name = stat_line[stat_line.index("(") + 1 : name_end]
    state, parent = stat_line[name_end + 2 :].split(" ", 2)[:2]
    return name, state, int(parent)


def _remove_tree(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)


# --------------------------------------------------------------------------- public class


@dataclass(frozen=True)
class _RunningCluster:
    dirs: _ClusterDirs
    process: subprocess.Popen[bytes]
    port: int
    spawner: _Spawner


class ThrowawayPostgres:
    """A PostgreSQL cluster that lives in a temporary directory until :meth:`stop`.

    Use it as a context manager, or call :meth:`start` and :meth:`stop` yourself; a cluster
    still running at interpreter exit is stopped by an ``atexit`` hook. :meth:`start` blocks for
    about a second; from async code call it directly rather than through ``asyncio.to_thread``,
    because on Linux the server is stopped when the thread that started it exits.
    """

    def __init__(
        self,
        *,
        bindir: Path | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        temp_parent: Path | None = None,
    ) -> None:
        """``bindir`` overrides binary discovery; ``temp_parent`` overrides ``$TMPDIR``."""
        self._bindir = bindir
        self._startup_timeout = startup_timeout
        self._shutdown_timeout = shutdown_timeout
        self._temp_parent = temp_parent
        self._cluster: _RunningCluster | None = None

    # ----------------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Create the cluster and return once the server accepts TCP connections."""
        if self._cluster is not None:
            raise RuntimeError("this ThrowawayPostgres is already running")
        started_at = time.monotonic()
        bindir = self._bindir if self._bindir is not None else find_postgres_bindir()
        account = _server_account()
        dirs = _make_cluster_dirs(self._temp_parent, account)
        spawner = _Spawner(bindir=bindir, account=account, cwd=dirs.base)
        try:
            _initialise_data_dir(spawner, dirs)
            process, port = _start_server_on_a_free_port(spawner, dirs, self._startup_timeout)
        except BaseException:  # the server, if any, is already stopped
            _remove_tree(dirs.base)
            raise
        self._cluster = _RunningCluster(dirs=dirs, process=process, port=port, spawner=spawner)
        atexit.register(self.stop)
        logger.info(
            "throwaway postgres pid %d on port %d ready in %.2f s (%s)",
            process.pid,
            port,
            time.monotonic() - started_at,
            dirs.base,
        )
        return self

    def stop(self) -> None:
        """Shut the server down (graceful, then SIGKILL) and delete its directories.

        Safe to call more than once.
        """
        cluster, self._cluster = self._cluster, None
        if cluster is None:
            return
        atexit.unregister(self.stop)
        try:
            _shut_down(cluster.process, self._shutdown_timeout)
        finally:
            _remove_tree(cluster.dirs.base)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------------- facts

    @property
    def is_running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop`, while the server lives."""
        return self._cluster is not None and self._cluster.process.poll() is None

    @property
    def port(self) -> int:
        return self._running().port

    @property
    def pid(self) -> int:
        """PID of the postmaster process."""
        return self._running().process.pid

    @property
    def data_dir(self) -> Path:
        return self._running().dirs.data

    @property
    def socket_dir(self) -> Path:
        return self._running().dirs.socket

    @property
    def base_dir(self) -> Path:
        """The temporary directory holding data, socket and log; removed by :meth:`stop`."""
        return self._running().dirs.base

    @property
    def log_path(self) -> Path:
        return self._running().dirs.log

    def dsn(self, database: str = "postgres") -> str:
        """SQLAlchemy async URL of ``database`` on this cluster, as the superuser."""
        return f"postgresql+asyncpg://{SUPERUSER}@{LISTEN_ADDRESS}:{self.port}/{database}"

    # ----------------------------------------------------------------------- databases

    def create_database(self, name: str) -> str:
        """Create database ``name`` (letters, digits, ``_``, ``-``) and return its :meth:`dsn`."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} must match {_DATABASE_NAME.pattern}")
        cluster = self._running()
        completed = cluster.spawner.run(
            "createdb",
            ["-h", str(cluster.dirs.socket), "-p", str(cluster.port), "-U", SUPERUSER, name],
            timeout=_CLIENT_TIMEOUT,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"createdb {name} failed: {completed.stderr.strip()}")
        return self.dsn(name)

    def _running(self) -> _RunningCluster:
        if self._cluster is None:
            raise RuntimeError("ThrowawayPostgres is not running; call start() first")
        return self._cluster
