"""``tuneloop examples``: add rated examples from JSON or JSONL."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import JsonFlag, emit_json, fail, show

app = typer.Typer(help="Add rated examples.", no_args_is_help=True)


def read_examples(path: Path) -> list[dict[str, Any]]:
    """A JSON object, a JSON list, or JSONL (one example per line)."""
    text = path.read_text()
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        loaded = None
    if isinstance(loaded, dict):
        return list(loaded["examples"]) if "examples" in loaded else [loaded]
    if isinstance(loaded, list):
        return loaded
    examples = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            examples.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise fail(f"{path}:{number} is not JSON ({exc.msg}); fix that line") from None
    return examples


@app.command()
def add(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="JSON (one or a list) or JSONL file."),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Store rated examples (all or none); every problem is listed by field."""
    examples = read_examples(file)
    if not examples:
        raise fail(f"{file} holds no examples")
    body = {"examples": examples} if len(examples) > 1 else examples[0]
    with gateway(as_json) as client:
        created = client.post("/v1/examples", body)
    if as_json:
        emit_json(created)
        return
    show(f"[green]stored {len(created['ids'])} example(s)[/]")
    for warning in created.get("warnings", [])[:10]:
        show(f"[yellow]warning:[/] {warning.get('field') or ''} {warning['message']}")


__all__ = ["app"]
