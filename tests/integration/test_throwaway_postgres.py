"""The throwaway PostgreSQL cluster: it serves databases, then leaves no process or file behind."""

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.supervision import postgres
from libs.supervision.postgres import PostgresNotFound, ThrowawayPostgres, find_postgres_bindir

REPO_ROOT = Path(__file__).resolve().parents[2]
EXIT_DEADLINE_SECONDS = 15.0


def _postgres_installed() -> bool:
    try:
        find_postgres_bindir()
    except PostgresNotFound:
        return False
    return True


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not _postgres_installed(), reason="PostgreSQL server is not installed"),
]


def _is_alive(pid: int) -> bool:
    """True unless ``pid`` is gone or a zombie (a dead process its new parent has not reaped)."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc on this system
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    state = stat_line[stat_line.rindex(")") + 2]
    return state not in {"Z", "X"}


def _children_of(parent: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_line = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat_line[stat_line.rindex(")") + 2 :].split()[1]) == parent:
            children.append(int(entry))
    return children


def _wait_until_dead(pids: list[int], deadline_seconds: float) -> list[int]:
    """Poll until every pid has exited or the deadline passes; return the survivors."""
    deadline = time.monotonic() + deadline_seconds
    while (alive := [pid for pid in pids if _is_alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@pytest.mark.asyncio
async def test_cluster_serves_its_own_database_then_leaves_nothing_behind() -> None:
    pg = ThrowawayPostgres()
    pg.start()
    postmaster, base_dir, data_dir = pg.pid, pg.base_dir, pg.data_dir
    try:
        assert data_dir.is_dir()
        dsn = pg.create_database("throwaway_test")
        assert dsn == f"postgresql+asyncpg://postgres@127.0.0.1:{pg.port}/throwaway_test"
        engine = create_async_engine(dsn)
        try:
            async with engine.connect() as connection:
                assert (await connection.execute(text("select 1"))).scalar_one() == 1
                database = (await connection.execute(text("select current_database()"))).scalar()
                assert database == "throwaway_test"
        finally:
            await engine.dispose()
        server_processes = [postmaster, *_children_of(postmaster)]
        assert len(server_processes) > 1  # checkpointer, walwriter, ... as well
    finally:
        pg.stop()

    with pytest.raises(ProcessLookupError):
        os.kill(postmaster, 0)
    assert _wait_until_dead(server_processes, EXIT_DEADLINE_SECONDS) == []
    assert not data_dir.exists()
    assert not base_dir.exists()
    assert not pg.is_running


@pytest.mark.asyncio
async def test_stop_does_not_wait_for_connections_left_open() -> None:
    with ThrowawayPostgres() as pg:
        engine = create_async_engine(pg.dsn())
        connection = await engine.connect()
        backend = (await connection.execute(text("select pg_backend_pid()"))).scalar_one()
        postmaster = pg.pid
        started = time.monotonic()
        pg.stop()
        stop_seconds = time.monotonic() - started
        await connection.invalidate()
        await connection.close()
        await engine.dispose()

    assert stop_seconds < postgres.DEFAULT_SHUTDOWN_TIMEOUT / 2
    assert _wait_until_dead([postmaster, backend], EXIT_DEADLINE_SECONDS) == []


def test_two_clusters_run_side_by_side_and_databases_are_separate() -> None:
    with ThrowawayPostgres() as first, ThrowawayPostgres() as second:
        assert first.port != second.port
        assert first.base_dir != second.base_dir
        first.create_database("only_in_first")
        with pytest.raises(RuntimeError, match="already exists"):
            first.create_database("only_in_first")
        second.create_database("only_in_first")


def test_create_database_rejects_names_that_need_quoting() -> None:
    with pytest.raises(ValueError, match="must match"):
        ThrowawayPostgres().create_database("x; drop database postgres")


def test_facts_about_a_stopped_cluster_raise() -> None:
    pg = ThrowawayPostgres()
    with pytest.raises(RuntimeError, match="call start"):
        pg.dsn()
    pg.stop()  # stopping a cluster that never started is harmless


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_server_stops_when_the_python_parent_is_killed() -> None:
    parent_script = (
        "import sys\n"
        "from libs.supervision.postgres import ThrowawayPostgres\n"
        "pg = ThrowawayPostgres().start()\n"
        "print(pg.pid, pg.base_dir, flush=True)\n"
        "sys.stdin.read()\n"  # block until the test closes stdin or kills us
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_script],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdin is not None
    assert parent.stdout is not None
    postmaster, base_dir = None, None
    try:
        readable, _, _ = select.select([parent.stdout], [], [], 60)
        assert readable, "the parent did not report a started cluster within 60 s"
        pid_text, base_text = parent.stdout.readline().split(maxsplit=1)
        postmaster, base_dir = int(pid_text), Path(base_text.strip())
        assert _is_alive(postmaster)

        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=EXIT_DEADLINE_SECONDS)

        assert _wait_until_dead([postmaster], EXIT_DEADLINE_SECONDS) == []
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdin.close()
        parent.stdout.close()
        if postmaster is not None and _is_alive(postmaster):
            os.kill(postmaster, signal.SIGKILL)
        if base_dir is not None:  # a killed parent cannot clean up; that is the caller's job
            shutil.rmtree(base_dir, ignore_errors=True)


def test_missing_binaries_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(postgres, "_DEBIAN_BINDIR_PATTERN", "/nonexistent/postgresql/*/bin")
    with pytest.raises(PostgresNotFound, match="apt-get install postgresql"):
        ThrowawayPostgres().start()
