"""``tuneloop datasets``: upload and validate files, export versions, list and inspect them."""

from pathlib import Path
from typing import Annotated, Any

import typer

from tuneloop.client import RowError
from tuneloop.client.exports import wait_for_export
from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import (
    JsonFlag,
    emit_json,
    pairs,
    row_error_table,
    show,
    stderr,
    table,
)

app = typer.Typer(help="Upload, export and inspect datasets.", no_args_is_help=True)
FORMATS = "auto, openai-chat, prompt-completion, alpaca, sharegpt or csv"


def warning_rows(items: list[dict[str, Any]]) -> list[RowError]:
    return [
        RowError(
            code=str(i.get("code")),
            message=str(i.get("message")),
            line=i.get("line"),
            field=i.get("field"),
        )
        for i in items
    ]


def show_upload(report: dict[str, Any]) -> None:
    show(
        f"[green]stored {report['accepted']} row(s)[/] of the {report['format']} file "
        f"({report['mode']} mode), rejected {report['rejected']}"
    )
    if report.get("errors"):
        show(row_error_table(warning_rows(report["errors"]), report["rejected"]))
    if report.get("warnings"):
        stderr.print(f"[yellow]{report.get('total_warnings', 0)} warning(s)[/], for example:")
        stderr.print(row_error_table(warning_rows(report["warnings"][:10]), None))


@app.command()
def upload(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="File to upload.")
    ],
    lenient: Annotated[
        bool, typer.Option(help="Keep the valid rows instead of refusing the whole file.")
    ] = False,
    format: Annotated[str, typer.Option(help=f"File format: {FORMATS}.")] = "auto",
    domain: Annotated[str | None, typer.Option(help="Domain of every row.")] = None,
    task_type: Annotated[str | None, typer.Option(help="Task type of every row.")] = None,
    source: Annotated[str, typer.Option(help="Where the rows come from.")] = "upload",
    as_json: JsonFlag = False,
) -> None:
    """Upload and validate a file of rated examples; invalid rows are listed line by line."""
    with gateway(as_json) as client:
        report = client.upload(
            "/v1/datasets/uploads",
            file,
            mode="lenient" if lenient else "strict",
            format=format,
            domain=domain,
            task_type=task_type,
            source=source,
        )
    if as_json:
        emit_json(report)
    else:
        show_upload(report)


def version_rows(versions: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            v["id"],
            v["dataset"],
            v["version"],
            v["format"],
            v["train_rows"],
            v["test_rows"],
            v["created_at"],
        ]
        for v in versions
    ]


VERSION_COLUMNS = ("id", "dataset", "version", "format", "train", "test", "created")


@app.command("list")
def list_versions(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset's versions.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Dataset versions, newest first within each dataset."""
    with gateway(as_json) as client:
        body = client.get("/v1/datasets", dataset=dataset)
    if as_json:
        emit_json(body["data"])
        return
    if not body["data"]:
        show("no dataset versions yet: upload a file, then `tuneloop datasets export`")
        return
    show(table(None, VERSION_COLUMNS, version_rows(body["data"])))


def show_detail(detail: dict[str, Any]) -> None:
    manifest = detail["manifest"]
    show(
        pairs(
            f"{detail['dataset']} v{detail['version']}",
            {
                "id": detail["id"],
                "format": detail["format"],
                "created": detail["created_at"],
                "train rows": detail["train_rows"],
                "test rows": detail["test_rows"],
                "considered": manifest["considered"],
                "excluded": manifest["excluded"] or "none",
                "filters": {k: v for k, v in manifest["filters"].items() if v not in (None, False)},
                "tokenizer": manifest["tokenizer"],
                "context length": manifest["context_length"],
                "artifact": detail["artifact_sha256"],
            },
        )
    )
    splits = manifest["splits"]
    show(
        table(
            "splits",
            ("split", "examples", "tokens", "tokens/example (mean)", "gold stars", "domains"),
            (
                [
                    name,
                    s["examples"],
                    s["tokens"],
                    s["tokens_per_example"]["mean"],
                    s["ratings"]["gold_star"],
                    s["domains"],
                ]
                for name, s in splits.items()
            ),
        )
    )


@app.command("show")
def show_version(
    version_id: Annotated[str, typer.Argument(help="Dataset version id (see `datasets list`).")],
    as_json: JsonFlag = False,
) -> None:
    """A dataset version with its manifest: filters, counts and per-split statistics."""
    with gateway(as_json) as client:
        detail = client.get(f"/v1/datasets/{version_id}")
    if as_json:
        emit_json(detail)
    else:
        show_detail(detail)


@app.command()
def export(
    name: Annotated[str, typer.Option(help="Dataset name; each export makes its next version.")],
    min_rating: Annotated[
        int | None, typer.Option(min=1, max=5, help="Only examples rated at least this.")
    ] = None,
    gold_only: Annotated[bool, typer.Option(help="Only gold-star examples.")] = False,
    domain: Annotated[str | None, typer.Option(help="Only this domain.")] = None,
    task_type: Annotated[str | None, typer.Option(help="Only this task type.")] = None,
    source: Annotated[str | None, typer.Option(help="Only examples from this source.")] = None,
    format: Annotated[
        str, typer.Option(help="openai-chat-jsonl, sharegpt, alpaca, ...")
    ] = "openai-chat-jsonl",
    test_fraction: Annotated[float, typer.Option(help="Share held out for testing.")] = 0.1,
    min_examples: Annotated[
        int | None, typer.Option(help="Fewer valid examples is an error (server default).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Export the matching examples as the next version of a dataset and wait for it."""
    request = {
        "name": name,
        "format": format,
        "test_fraction": test_fraction,
        "min_examples": min_examples,
        "filters": {
            "min_rating": min_rating,
            "gold_star_only": gold_only,
            "domain": domain,
            "task_type": task_type,
            "source": source,
        },
    }
    with gateway(as_json) as client, stderr.status(f"exporting dataset {name}…"):
        detail = wait_for_export(client, client.post("/v1/datasets/exports", request))
    if as_json:
        emit_json(detail)
        return
    show(f"[green]exported[/] {detail['dataset']} v{detail['version']} ({detail['id']})")
    show_detail(detail)


__all__ = ["app"]
