"""``tuneloop docs``: regenerate the reference pages under docs/ from the code."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from tuneloop.commands.config_reference import render_config_reference
from tuneloop.commands.events_reference import render_events_reference
from tuneloop.commands.output import fail, stderr

app = typer.Typer(help="Generate the reference pages under docs/.", no_args_is_help=True)
CheckFlag = Annotated[bool, typer.Option(help="Fail if the checked-in page is stale.")]


def write_or_check(path: Path, text: str, check: bool, command: str) -> None:
    if check:
        if not path.exists() or path.read_text() != text:
            raise fail(f"{path} is stale; run `{command}` and commit it")
        stderr.print(f"{path} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    stderr.print(f"wrote {path}")


def page_command(render: Callable[[], str], default: Path, command: str) -> Callable[..., None]:
    def run(
        check: CheckFlag = False,
        output: Annotated[Path, typer.Option(help="Where the page goes.")] = default,
    ) -> None:
        write_or_check(output, render(), check, command)

    return run


app.command("config", help="Every environment variable, from the settings classes.")(
    page_command(render_config_reference, Path("docs/configuration.md"), "tuneloop docs config")
)


@app.command("events")
def events(
    check: CheckFlag = False,
    output: Annotated[Path, typer.Option(help="Where the page goes.")] = Path("docs/events.md"),
    asyncapi: Annotated[Path, typer.Option(help="The AsyncAPI spec.")] = Path(
        "contracts/asyncapi.json"
    ),
) -> None:
    """Every subject, its publisher, consumers and payload, from the AsyncAPI spec."""
    write_or_check(output, render_events_reference(asyncapi), check, "tuneloop docs events")


__all__ = ["app"]
