"""The ``tuneloop`` command line."""

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Annotated, TypeVar

import httpx
import typer
from rich.console import Console
from rich.table import Table

from libs.config import ConfigurationError, StackSettings, TuneloopSettings, load_settings
from libs.messaging import Subjects, list_dead_letters, replay_dead_letter
from libs.storage import DatabaseUnavailable, migrate_to_head
from libs.supervision.nats_server import NatsServerFailed, NatsServerNotFound
from tuneloop.commands import (
    budgets,
    costs,
    datasets,
    docs,
    evaluate,
    examples,
    experiments,
    jobs,
    keys,
    models,
    retraining,
)
from tuneloop.keys_cli import issue_key
from tuneloop.nats_check import NatsUnavailable, connected
from tuneloop.stack import Stack, StackError

app = typer.Typer(
    help="tuneloop: the closed loop of LLM fine-tuning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
deadletters_app = typer.Typer(
    help="Inspect and replay messages no handler could process.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(deadletters_app, name="deadletters")
app.add_typer(db_app, name="db")
app.add_typer(datasets.app, name="datasets")
app.add_typer(examples.app, name="examples")
app.add_typer(jobs.app, name="jobs")
app.add_typer(models.app, name="models")
app.add_typer(experiments.app, name="experiments")
app.add_typer(retraining.app, name="retraining")
app.add_typer(evaluate.app, name="evaluate")
app.add_typer(costs.app, name="costs")
app.add_typer(budgets.app, name="budgets")
app.add_typer(keys.app, name="keys")
app.add_typer(docs.app, name="docs")
keys.app.command("issue")(issue_key)

console = Console(stderr=True)
S = TypeVar("S", bound=TuneloopSettings)
EXPECTED_ERRORS = (
    ConfigurationError,
    DatabaseUnavailable,
    NatsUnavailable,
    NatsServerFailed,
    NatsServerNotFound,
    StackError,
)


def fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def settings_or_exit(cls: type[S]) -> S:
    try:
        return load_settings(cls)
    except ConfigurationError as exc:
        raise fail(str(exc)) from None


STATE_STYLES = {"healthy": "green", "ready": "green", "stopped": "dim", "starting": "yellow"}


def print_state(part: str, state: str) -> None:
    style = STATE_STYLES.get(state.split(":")[0].split(" ")[0], "cyan")
    console.print(f"  [bold]{part:<10}[/] [{style}]{state}[/]", highlight=False)


async def run_stack(settings: StackSettings, flywheel: "FlywheelOptions | None" = None) -> None:
    extra_env = {} if flywheel is None else flywheel.stack_env()
    stack = Stack(settings, report=print_state, extra_env=extra_env)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        started = loop.time()
        await stack.start()
        console.print(
            f"[bold green]tuneloop is up[/] in {loop.time() - started:.1f}s: "
            f"gateway {stack.gateway_url} (health: {stack.gateway_url}/healthz), "
            f"NATS {stack.nats_url}. Press Ctrl-C to stop.",
            highlight=False,
        )
        if flywheel is None:
            await stack.supervise(stop)
        else:
            await supervise_with_flywheel(stack, stop, flywheel)
    finally:
        if stack.started_anything:
            console.print("stopping…")
        stack.stop()


class FlywheelOptions:
    def __init__(self, quick: bool) -> None:
        from tuneloop.flywheel import FlywheelSettings

        self.quick = quick
        self.settings = settings_or_exit(FlywheelSettings)

    def stack_env(self) -> dict[str, str]:
        """The router captures the flywheel tenant's payloads."""
        return {"TUNELOOP_ROUTER_CAPTURE_TENANTS": self.settings.capture_with_flywheel()}


async def supervise_with_flywheel(
    stack: Stack, stop: asyncio.Event, options: FlywheelOptions
) -> None:
    """Run the flywheel while the stack is supervised; the stack stays up after it."""
    from tuneloop.flywheel import FlywheelError, run_flywheel

    async def turn() -> None:
        try:
            await run_flywheel(
                gateway_url=stack.gateway_url,
                api_key=options.settings.key(),
                nats_url=stack.nats_url,
                subject_prefix=stack.settings.subject_prefix,
                home=stack.home,
                quick=options.quick,
                base_model=stack.settings.base_model,
                console=Console(),
            )
        except FlywheelError as exc:
            console.print(f"[bold red]flywheel stopped:[/] {exc}", highlight=False)
        except Exception:
            console.print("[bold red]flywheel stopped by an unexpected error:[/]")
            console.print_exception()
        else:
            console.print("The stack stays up; press Ctrl-C to stop it.", highlight=False)

    flywheel = asyncio.create_task(turn(), name="flywheel")
    try:
        await stack.supervise(stop)
    finally:
        if not flywheel.done():
            flywheel.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flywheel


@app.command()
def up(
    gateway_port: Annotated[
        int | None,
        typer.Option(
            help="Port of the gateway's HTTP API (default 8000 or TUNELOOP_GATEWAY_PORT)."
        ),
    ] = None,
    flywheel: Annotated[
        bool,
        typer.Option(
            help="Once up, run the scripted flywheel (traffic, ratings, training, A/B test, "
            "promotion, ROI); the stack stays up afterwards."
        ),
    ] = False,
    quick: Annotated[
        bool,
        typer.Option(help="With --flywheel: the tiny generated model and small counts."),
    ] = False,
) -> None:
    """Start NATS, the database and every service; Ctrl-C stops them all."""
    settings = settings_or_exit(StackSettings)
    if gateway_port is not None:
        settings = settings.model_copy(update={"gateway_port": gateway_port})
    if flywheel and quick:
        settings = settings.model_copy(update={"base_model": "tiny-llama"})
    try:
        asyncio.run(run_stack(settings, FlywheelOptions(quick) if flywheel else None))
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None


@app.command("flywheel")
def flywheel_command(
    quick: Annotated[
        bool, typer.Option(help="The tiny generated model and small counts (for tests).")
    ] = False,
    base_model: Annotated[
        str | None, typer.Option(help="Base model the stack serves (default: by --quick).")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Gateway URL; default TUNELOOP_URL, else the running stack's."),
    ] = None,
) -> None:
    """Run the scripted flywheel against a running stack, through the gateway's API."""
    from tuneloop.flywheel import FlywheelError, FlywheelSettings, run_flywheel

    settings = settings_or_exit(FlywheelSettings)
    state = running_stack(settings)
    stack = settings_or_exit(StackSettings)
    gateway = (
        url or settings.url or state.get("gateway_url") or f"http://127.0.0.1:{stack.gateway_port}"
    )
    try:
        asyncio.run(
            run_flywheel(
                gateway_url=gateway,
                api_key=settings.key(),
                nats_url=settings.nats_url or state.get("nats_url"),
                subject_prefix=state.get("subject_prefix") or settings.subject_prefix,
                home=settings.home.resolve(),
                quick=quick,
                base_model=base_model,
                console=Console(),
            )
        )
    except FlywheelError as exc:
        raise fail(str(exc)) from None


@app.command()
def health(
    url: Annotated[
        str | None, typer.Option(help="Gateway URL; default from the running stack.")
    ] = None,
) -> None:
    """Show the health of every service, as the gateway reports it."""
    settings = settings_or_exit(StackSettings)
    gateway = (
        url
        or running_stack(settings).get("gateway_url")
        or f"http://127.0.0.1:{settings.gateway_port}"
    )
    try:
        response = httpx.get(f"{gateway}/healthz", timeout=10)
    except httpx.HTTPError as exc:
        raise fail(
            f"cannot reach the gateway at {gateway} ({exc}); is `tuneloop up` running?"
        ) from None
    body = response.json()
    table = Table("service", "status", "pid", "checks")
    for name, service in body.get("services", {}).items():
        colour = "green" if service["status"] == "ok" else "red"
        checks = ", ".join(f"{k}: {v}" for k, v in service.get("checks", {}).items())
        table.add_row(
            name, f"[{colour}]{service['status']}[/]", str(service.get("pid") or ""), checks
        )
    Console().print(table)
    if body.get("status") != "ok":
        raise typer.Exit(code=1)


def running_stack(settings: TuneloopSettings) -> dict[str, str]:
    state = settings.home / "stack.json"
    if not state.exists():
        return {}
    loaded: dict[str, str] = json.loads(state.read_text())
    return loaded


def nats_url_or_exit(settings: TuneloopSettings) -> str:
    url = settings.nats_url or running_stack(settings).get("nats_url")
    if not url:
        raise fail(
            "no NATS to talk to: start the stack with `tuneloop up` or set TUNELOOP_NATS_URL"
        )
    return url


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to TUNELOOP_DATABASE_URL (or the embedded SQLite)."""
    settings = settings_or_exit(TuneloopSettings)
    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(migrate_to_head(settings.resolved_database_url()))
    except Exception as exc:
        raise fail(f"migration failed: {exc}") from None
    console.print("[green]database schema is up to date[/]")


@deadletters_app.command("list")
def deadletters_list(
    consumer: Annotated[str | None, typer.Option(help="Only this consumer's dead letters.")] = None,
) -> None:
    """List dead-lettered messages with the reason each one failed."""
    settings = settings_or_exit(TuneloopSettings)
    url = nats_url_or_exit(settings)

    async def load() -> None:
        async with connected(url) as client:
            letters = await list_dead_letters(client, Subjects(settings.subject_prefix), consumer)
        table = Table("seq", "time", "consumer", "subject", "reason", "attempts", "error")
        for letter in letters:
            table.add_row(
                str(letter.sequence),
                f"{letter.time:%Y-%m-%d %H:%M:%S}" if letter.time else "",
                letter.consumer,
                letter.original_subject,
                letter.reason,
                str(letter.attempts),
                letter.error,
            )
        Console().print(table if letters else "no dead letters")

    try:
        asyncio.run(load())
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None


@deadletters_app.command("replay")
def deadletters_replay(
    consumer: Annotated[str | None, typer.Option(help="Only this consumer's dead letters.")] = None,
    sequence: Annotated[
        int | None, typer.Option(help="Only the dead letter with this sequence.")
    ] = None,
) -> None:
    """Send dead letters back to their original subject (handlers are idempotent)."""
    settings = settings_or_exit(TuneloopSettings)
    url = nats_url_or_exit(settings)

    async def replay() -> int:
        subjects = Subjects(settings.subject_prefix)
        async with connected(url) as client:
            letters = await list_dead_letters(client, subjects, consumer)
            chosen = [x for x in letters if sequence is None or x.sequence == sequence]
            for letter in chosen:
                await replay_dead_letter(client, subjects, letter)
        return len(chosen)

    try:
        count = asyncio.run(replay())
    except EXPECTED_ERRORS as exc:
        raise fail(str(exc)) from None
    console.print(f"replayed {count} dead letter(s)")


@app.command()
def contracts(
    check: Annotated[bool, typer.Option(help="Fail if the checked-in specs are stale.")] = False,
    directory: Annotated[Path, typer.Option(help="Where the specs live.")] = Path("contracts"),
) -> None:
    """Regenerate the AsyncAPI and OpenAPI specs from the code."""
    from tuneloop.specs import stale_specs, write_specs

    if check:
        stale = stale_specs(directory)
        if stale:
            raise fail(f"stale specs: {', '.join(stale)}; run `make contracts` and commit them")
        console.print("specs are up to date")
        return
    for path in write_specs(directory):
        console.print(f"wrote {path}")


@app.command()
def service(
    name: Annotated[
        str, typer.Argument(help="exporter, trainer, registry, router, evaluator, cost or gateway")
    ],
) -> None:
    """Run one service in the foreground (the stack runs each one like this)."""
    import importlib

    from contracts.services import SERVICE_NAMES
    from libs.runtime import run_service

    if name not in SERVICE_NAMES:
        raise fail(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")
    run_service(importlib.import_module(f"services.{name}").DEFINITION)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]
