"""``tuneloop up``: the bus, the database and every service as its own process, supervised.

Start-up checks the database and NATS first and fails with one line that says how to fix the
problem. Services that crash are restarted with back-off; one that keeps crashing stops the
stack with its last log lines. Stopping sends SIGTERM to every service, then stops NATS.
"""

import asyncio
import json
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contracts.services import SERVICE_NAMES
from libs.background import wait_for_event
from libs.config import INTERNAL_SECRET_FILE, StackSettings
from libs.messaging import Subjects, ensure_streams
from libs.models.registry import KNOWN_BASE_MODELS, resolve_base_model
from libs.storage import check_database, migrate_to_head
from libs.storage.database import redacted
from libs.supervision.nats_server import EmbeddedNats
from libs.supervision.process import ManagedProcess, free_port
from services.gateway.bootstrap import ADMIN_KEY_FILE, ensure_admin_key, write_secret_file
from tuneloop.nats_check import ask_health, connected, require_jetstream

MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
SUPERVISE_INTERVAL_SECONDS = 0.5


class StackError(Exception):
    """The stack cannot start or keep running; the message says why and what to do."""


Report = Callable[[str, str], None]
"""Called with (part, state) as the stack comes up: e.g. ("registry", "healthy")."""


@dataclass
class ServiceSlot:
    name: str
    process: ManagedProcess
    restarts: list[float] = field(default_factory=list)


class Stack:
    def __init__(
        self,
        settings: StackSettings,
        report: Report | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.extra_env = extra_env or {}
        self.home = settings.home.resolve()
        self.subjects = Subjects(settings.subject_prefix)
        self.report: Report = report or (lambda part, state: None)
        self.nats: EmbeddedNats | None = None
        self.nats_url = ""
        self.database_url = settings.resolved_database_url()
        self.slots: dict[str, ServiceSlot] = {}
        self.engine_url = ""
        self.upstreams = settings.router_upstreams
        self.router_port = 0
        self.internal_secret = ""

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    @property
    def state_file(self) -> Path:
        return self.home / "stack.json"

    async def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self._check_gateway_port()
        await self._check_database()
        await self._start_bus()
        await self._migrate_database()
        await self._bootstrap_admin_key()
        self._ensure_internal_secret()
        await self._prepare_base_model()
        self._start_engine()
        self._spawn_services()
        await self._wait_until_healthy()
        self._write_state()
        await self._wait_for_engine()

    def _check_gateway_port(self) -> None:
        port = self.settings.gateway_port
        if port == 0:
            return
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise StackError(
                    f"port {port} is already in use; stop what uses it or set "
                    "TUNELOOP_GATEWAY_PORT to a free port"
                ) from None

    async def _check_database(self) -> None:
        self.report("database", f"checking {redacted(self.database_url)}")
        await check_database(self.database_url)

    async def _migrate_database(self) -> None:
        self.report("database", "migrating")
        await migrate_to_head(self.database_url)
        self.report("database", "ready")

    async def _bootstrap_admin_key(self) -> None:
        """The ``default`` tenant's first admin key, printed once and kept in ``admin.key``."""
        token = await ensure_admin_key(self.database_url, self.home)
        if token is not None:
            self.report(
                "keys",
                f"first admin key (shown once, saved to {self.home / ADMIN_KEY_FILE}): {token}",
            )

    def _ensure_internal_secret(self) -> None:
        """The secret the gateway signs identities with and the services check them with:
        the one set, or the one kept in ``internal.secret`` (generated on the first run)."""
        secret = self.settings.resolved_internal_secret()
        if secret is None:
            secret = secrets.token_urlsafe(32)
            write_secret_file(self.home / INTERNAL_SECRET_FILE, secret)
            self.report("keys", f"internal secret generated in {self.home / INTERNAL_SECRET_FILE}")
        self.internal_secret = secret

    async def _start_bus(self) -> None:
        if self.settings.nats_url:
            self.nats_url = self.settings.nats_url
            self.report("nats", f"connecting to {self.nats_url}")
        else:
            self.report("nats", "starting embedded nats-server")
            self.nats = EmbeddedNats(self.home / "nats")
            self.nats_url = self.nats.start()  # in this thread: children die with it
        async with connected(self.nats_url) as client:
            await require_jetstream(client, self.nats_url)
            await ensure_streams(client.jetstream(), self.subjects, self.settings.stream_replicas)
        self.report("nats", f"ready at {self.nats_url}")

    async def _prepare_base_model(self) -> None:
        """Build or convert the base model once, so every service finds it in the cache."""
        name = self.settings.base_model
        if name not in KNOWN_BASE_MODELS:
            return
        self.report("model", f"preparing {name} (cached after the first run)")
        started = time.monotonic()
        await asyncio.to_thread(resolve_base_model, name, self.settings.resolved_models_dir())
        self.report("model", f"ready: {name} ({time.monotonic() - started:.1f}s)")

    def _start_engine(self) -> None:
        """The embedded inference engine, unless the router was given upstreams (vLLM)."""
        if self.settings.router_upstreams:
            self.upstreams = self.settings.router_upstreams
            self.report("engine", "not started: the router uses TUNELOOP_ROUTER_UPSTREAMS")
            return
        port = free_port()
        self.engine_url = f"http://127.0.0.1:{port}"
        self.upstreams = f"{self.settings.base_model}={self.engine_url}"
        env = {
            **self._child_env(),
            "TUNELOOP_ENGINE_PORT": str(port),
            "TUNELOOP_BASE_MODEL": self.settings.base_model,
        }
        process = ManagedProcess(
            "engine",
            [sys.executable, "-m", "services.router.engine"],
            env=env,
            log_path=self.home / "logs" / "engine.log",
        )
        process.start()
        self.slots["engine"] = ServiceSlot("engine", process)
        self.report("engine", f"loading {self.settings.base_model}")

    async def _wait_for_engine(self) -> None:
        if not self.engine_url:
            return
        deadline = time.monotonic() + self.settings.engine_timeout_seconds
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                self._fail_if_exited("engine", "while loading its model")
                try:
                    if (await client.get(f"{self.engine_url}/v1/models")).status_code == 200:
                        self.report("engine", f"ready: {self.settings.base_model}")
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
        raise StackError(
            f"the engine did not load {self.settings.base_model} within "
            f"{self.settings.engine_timeout_seconds:.0f}s; see "
            f"{self.home / 'logs' / 'engine.log'}"
        )

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if not self.router_port:
            self.router_port = int(env.get("TUNELOOP_ROUTER_PORT") or free_port())
        # offline evaluations ask the router directly, as their evaluation's tenant
        env.setdefault(
            "TUNELOOP_EVALUATOR_MODEL_BASE_URL", f"http://127.0.0.1:{self.router_port}/v1"
        )
        env.update(
            {
                "TUNELOOP_HOME": str(self.home),
                "TUNELOOP_NATS_URL": self.nats_url,
                "TUNELOOP_DATABASE_URL": self.database_url,
                "TUNELOOP_SUBJECT_PREFIX": self.settings.subject_prefix,
                "TUNELOOP_GATEWAY_PORT": str(self.settings.gateway_port),
                "TUNELOOP_ROUTER_UPSTREAMS": self.upstreams,
                "TUNELOOP_BASE_MODEL": self.settings.base_model,
                "TUNELOOP_MODELS_DIR": str(self.settings.resolved_models_dir()),
                "TUNELOOP_ROUTER_PORT": str(self.router_port),
                "TUNELOOP_ROUTER_REQUIRE_KEY": str(self.settings.gateway_auth).lower(),
                "TUNELOOP_INTERNAL_SECRET": self.internal_secret,
                "PYTHONUNBUFFERED": "1",
                **self.extra_env,
            }
        )
        return env

    def _spawn_services(self) -> None:
        env = self._child_env()
        for name in SERVICE_NAMES:
            process = ManagedProcess(
                name,
                [sys.executable, "-m", f"services.{name}"],
                env=env,
                log_path=self.home / "logs" / f"{name}.log",
            )
            process.start()
            self.slots[name] = ServiceSlot(name, process)
            self.report(name, "starting")

    async def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_seconds
        pending = set(self.slots) - {"engine"}
        async with connected(self.nats_url) as client:
            while pending:
                for name in sorted(pending):
                    self._fail_if_exited(name, "before becoming healthy")
                    reply = await ask_health(client, self.subjects, name, timeout=0.25)
                    if reply is not None and reply.status == "ok":
                        pending.discard(name)
                        self.report(name, "healthy")
                if pending and time.monotonic() > deadline:
                    raise StackError(
                        f"not healthy after {self.settings.startup_timeout_seconds:.0f}s: "
                        f"{', '.join(sorted(pending))}; see {self.home / 'logs'}"
                    )
                if pending:
                    await asyncio.sleep(0.1)

    def _fail_if_exited(self, name: str, when: str) -> None:
        process = self.slots[name].process
        if process.running():
            return
        tail = process.log_tail(8)
        raise StackError(
            f"{name} exited with code {process.exit_code()} {when}; last log lines:\n{tail}"
        )

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "nats_url": self.nats_url,
            "gateway_url": self.gateway_url,
            "subject_prefix": self.settings.subject_prefix,
            "database_url": redacted(self.database_url),
            "services": {name: slot.process.pid for name, slot in self.slots.items()},
        }
        if self.nats is not None and self.nats.process is not None:
            state["nats_pid"] = self.nats.process.pid
        self.state_file.write_text(json.dumps(state, indent=2))

    async def supervise(self, stop: asyncio.Event) -> None:
        """Restart crashed services until ``stop`` is set; give up on a crash loop."""
        while not stop.is_set():
            for slot in self.slots.values():
                if not slot.process.running():
                    self._restart(slot)
            if self.nats is not None and self.nats.process and not self.nats.process.running():
                raise StackError(
                    f"the embedded nats-server exited; see {self.home / 'nats' / 'nats-server.log'}"
                )
            await wait_for_event(stop, SUPERVISE_INTERVAL_SECONDS)

    def _restart(self, slot: ServiceSlot) -> None:
        now = time.monotonic()
        slot.restarts = [t for t in slot.restarts if now - t < RESTART_WINDOW_SECONDS]
        if len(slot.restarts) >= MAX_RESTARTS:
            raise StackError(
                f"{slot.name} crashed {MAX_RESTARTS} times in "
                f"{RESTART_WINDOW_SECONDS:.0f}s; last log lines:\n"
                f"{slot.process.log_tail(8)}"
            )
        self.report(slot.name, f"exited with code {slot.process.exit_code()}; restarting")
        slot.restarts.append(now)
        slot.process.stop()
        slot.process.start()

    @property
    def started_anything(self) -> bool:
        return bool(self.slots) or self.nats is not None

    def stop(self) -> None:
        """Stop every service (SIGTERM, then SIGKILL after 10 s), then NATS."""
        for slot in self.slots.values():
            slot.process.signal(15)
        for slot in self.slots.values():
            slot.process.stop(grace_seconds=10)
            self.report(slot.name, "stopped")
        if self.nats is not None:
            self.nats.stop()
            self.report("nats", "stopped")
        self.state_file.unlink(missing_ok=True)


__all__ = ["Report", "Stack", "StackError"]
