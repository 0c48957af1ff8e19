"""``tuneloop costs``: what training and inference cost, and whether fine-tuning paid off."""

from typing import Annotated

import typer

from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import JsonFlag, emit_json, pairs, show, table

app = typer.Typer(help="Costs: summary, estimate and return on investment.", no_args_is_help=True)


@app.command()
def summary(
    group_by: Annotated[
        str, typer.Option(help="tenant, model, serving_name, day or kind.")
    ] = "day",
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Until this time (ISO 8601).")] = None,
    kind: Annotated[str | None, typer.Option(help="training, inference or evaluation.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Cost totals, grouped by day, model, version, kind or tenant."""
    with gateway(as_json) as client:
        body = client.get(
            "/v1/costs/summary", group_by=group_by, since=since, until=until, kind=kind
        )
    if as_json:
        emit_json(body)
        return
    rows = [
        [r["group"], f"${r['amount_usd']}", r["requests"], r["tokens"], r["entries"]]
        for r in body["rows"]
    ]
    rows.append(["[bold]total[/]", f"[bold]${body['total_usd']}[/]", "", "", ""])
    show(table(f"costs by {group_by}", (group_by, "cost", "requests", "tokens", "entries"), rows))


@app.command()
def roi(
    base_accuracy: Annotated[float, typer.Option(help="Share of correct answers before.")],
    tuned_accuracy: Annotated[float, typer.Option(help="Share of correct answers after.")],
    calls_per_month: Annotated[int, typer.Option(min=0, help="Requests a month.")],
    serving_name: Annotated[
        str | None, typer.Option(help="The fine-tuned version (its costs from the ledger).")
    ] = None,
    baseline: Annotated[str | None, typer.Option(help="What it replaces.")] = None,
    training_cost: Annotated[str | None, typer.Option(help="USD, when not in the ledger.")] = None,
    base_cost_per_call: Annotated[str | None, typer.Option(help="USD per call before.")] = None,
    tuned_cost_per_call: Annotated[str | None, typer.Option(help="USD per call after.")] = None,
    value_per_error: Annotated[str, typer.Option(help="USD one error less is worth.")] = "10",
    horizon_months: Annotated[int, typer.Option(min=1, max=120)] = 6,
    as_json: JsonFlag = False,
) -> None:
    """Return on a fine-tuned version against its baseline: payback, net value, verdict."""
    request = {
        "serving_name": serving_name,
        "baseline": baseline,
        "training_cost_usd": training_cost,
        "base_cost_per_call_usd": base_cost_per_call,
        "tuned_cost_per_call_usd": tuned_cost_per_call,
        "base_accuracy": base_accuracy,
        "tuned_accuracy": tuned_accuracy,
        "value_per_error_usd": value_per_error,
        "calls_per_month": calls_per_month,
        "horizon_months": horizon_months,
    }
    with gateway(as_json) as client:
        report = client.post("/v1/costs/roi", {k: v for k, v in request.items() if v is not None})
    if as_json:
        emit_json(report)
        return
    show(pairs("return on investment", {k: v for k, v in report.items() if k != "verdict"}))
    show(f"[bold]{report['verdict']}[/]")


@app.command()
def estimate(
    model: Annotated[str, typer.Option(help="Base model to fine-tune.")],
    dataset_sha256: Annotated[str, typer.Option(help="Training file in the artifact store.")],
    epochs: Annotated[int, typer.Option(min=1, max=100)] = 3,
    context_length: Annotated[int, typer.Option(min=1)] = 2048,
    as_json: JsonFlag = False,
) -> None:
    """Trained tokens, wall time and cost of a job on each kind of hardware."""
    body = {
        "model": model,
        "dataset_sha256": dataset_sha256,
        "epochs": epochs,
        "context_length": context_length,
    }
    with gateway(as_json) as client:
        result = client.post("/v1/costs/estimate", body)
    if as_json:
        emit_json(result)
        return
    from tuneloop.commands.jobs import show_estimate

    show_estimate(result)


__all__ = ["app"]
