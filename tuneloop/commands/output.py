"""How commands print: rich tables for people, JSON for scripts, errors in plain words."""

import json
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tuneloop.client import ApiError, RowError

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON (for scripts) instead of tables.")
]
stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False)
HINTS = {
    401: "the gateway refused the API key: set TUNELOOP_API_KEY, or `api_key` in the config "
    "file, to a valid key (`tuneloop up` writes the first one to .tuneloop/admin.key)",
    403: "the API key lacks the scope this needs (admin, train, deploy, infer or read); "
    "ask an admin for a key with that scope",
    413: "the file is larger than the server accepts; split it into smaller files",
    503: "a service is not available right now; check `tuneloop health`",
}
SPARKS = "▁▂▃▄▅▆▇█"


def emit_json(value: Any) -> None:
    """One JSON document on stdout."""
    typer.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def fail(message: str) -> typer.Exit:
    stderr.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code=1)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    shown = Table(*columns, title=title, title_justify="left")
    for row in rows:
        shown.add_row(*(cell(value) for value in row))
    return shown


def show(renderable: Any) -> None:
    stdout.print(renderable)


def pairs(title: str | None, values: dict[str, Any]) -> Table:
    """A two-column table of names and values."""
    return table(title, ("field", "value"), values.items())


def row_error_table(errors: list[RowError], total: int | None) -> Table:
    title = f"{len(errors)} of {total} problem(s)" if total and total > len(errors) else None
    return table(
        title,
        ("line", "field", "code", "message"),
        ((e.line, e.field, e.code, e.message) for e in errors),
    )


def show_api_error(error: ApiError, as_json: bool) -> None:
    if as_json:
        body = error.body or {"error": {"code": error.code, "message": error.message}}
        emit_json(body)
        return
    stderr.print(f"[bold red]error:[/] {error.message} [dim]({error.code})[/]", soft_wrap=True)
    if error.errors:
        stderr.print(row_error_table(error.errors, error.total_errors))
    hint = HINTS.get(error.status)
    if hint:
        stderr.print(f"[yellow]hint:[/] {hint}", soft_wrap=True)


def sparkline(values: Sequence[float], width: int = 40) -> str:
    """Unicode blocks, lowest value ▁ and highest █, of the last ``width`` values."""
    recent = list(values)[-width:]
    if not recent:
        return ""
    low, high = min(recent), max(recent)
    span = high - low or 1.0
    return "".join(SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in recent)


__all__ = [
    "JsonFlag",
    "cell",
    "emit_json",
    "fail",
    "pairs",
    "row_error_table",
    "show",
    "show_api_error",
    "sparkline",
    "stderr",
    "stdout",
    "table",
]
