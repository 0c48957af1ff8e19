"""``tuneloop evaluate``: run a dataset's test split through models and compare them."""

import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from tuneloop.client import ApiClient
from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import JsonFlag, emit_json, show, stderr, table

app = typer.Typer(
    help="Evaluate models offline on a dataset version.",
    subcommand_metavar="",
    context_settings={"allow_interspersed_args": True},
)


def dataset_file(client: ApiClient, version_id: str) -> str:
    """The test split's artifact, or the training split's when there is no test split."""
    detail = client.get(f"/v1/datasets/{version_id}")
    test = detail["manifest"]["splits"].get("test") or {}
    if test.get("examples") and test.get("artifact_sha256"):
        return str(test["artifact_sha256"])
    return str(detail["artifact_sha256"])


def wait_for(client: ApiClient, evaluation: dict[str, Any], interval: float, quiet: bool) -> Any:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr,
        disable=quiet,
    )
    with progress:
        task = progress.add_task("evaluate", total=evaluation["total"] or None)
        while evaluation["status"] == "running":
            time.sleep(interval)
            evaluation = client.get(f"/v1/evaluations/{evaluation['evaluation_id']}")
            progress.update(task, completed=evaluation["done"], total=evaluation["total"] or None)
    return evaluation


def show_summary(evaluation: dict[str, Any]) -> None:
    models = [m for m in evaluation["models"] if m in evaluation["metrics"]]
    metrics = sorted({m for values in evaluation["metrics"].values() for m in values})
    rows = ([metric, *(evaluation["metrics"][m].get(metric) for m in models)] for metric in metrics)
    show(table("metrics", ("metric", *models), rows))
    for model in models:
        if evaluation["metrics"][model].get("error_rate") == 1:
            stderr.print(
                f"[yellow]warning:[/] every request to {model} failed; check that the evaluator "
                "reaches the models (TUNELOOP_EVALUATOR_MODEL_BASE_URL) and that it is served",
                soft_wrap=True,
            )
    if evaluation["comparisons"]:
        pairs = (
            [
                f"{c['model_b']} vs {c['model_a']}",
                c["metric"],
                c["wins"],
                c["losses"],
                c["ties"],
                f"{c['win_rate']:.2f} [{c['win_rate_low']:.2f}, {c['win_rate_high']:.2f}]",
                c["p_value"],
            ]
            for c in evaluation["comparisons"]
        )
        show(
            table("pairwise", ("pair", "metric", "wins", "losses", "ties", "win rate", "p"), pairs)
        )
    if evaluation.get("summary"):
        show(evaluation["summary"])


@app.callback(invoke_without_command=True)
def evaluate(
    models: Annotated[list[str], typer.Argument(help="Model or serving names (up to eight).")],
    dataset: Annotated[str, typer.Option(help="Dataset version id whose test split is used.")],
    metric: Annotated[
        str, typer.Option(help="Per-prompt score for pairwise comparisons.")
    ] = "normalized_match",
    max_tokens: Annotated[int, typer.Option(min=1)] = 256,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 1.0,
    as_json: JsonFlag = False,
) -> None:
    """Run the dataset's test split through the models; print metrics and comparisons."""
    with gateway(as_json) as client:
        request = {
            "models": models,
            "dataset_sha256": dataset_file(client, dataset),
            "split": None,
            "primary_metric": metric,
            "max_tokens": max_tokens,
        }
        started = client.post("/v1/evaluations", request)
        if not as_json:
            stderr.print(f"evaluation {started['evaluation_id']} started")
        finished = wait_for(client, started, interval, as_json)
    if as_json:
        emit_json(finished)
    else:
        show_summary(finished)
    if finished["status"] != "completed":
        if not as_json:
            stderr.print(f"[red]evaluation {finished['status']}:[/] {finished.get('error')}")
        raise typer.Exit(code=1)


__all__ = ["app"]
