"""``tuneloop experiments``: A/B tests on live traffic and their verdicts."""

from typing import Annotated, Any

import typer

from tuneloop.client import ApiClient, ApiError
from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import JsonFlag, emit_json, fail, show, table

app = typer.Typer(help="A/B experiments: start, list, show, ramp, stop.", no_args_is_help=True)


def variants(control: str, treatments: list[str], weight: float | None) -> dict[str, Any]:
    share = weight if weight is not None else round(1 / (len(treatments) + 1), 4)
    names = (
        ["treatment"]
        if len(treatments) == 1
        else [f"treatment-{i + 1}" for i in range(len(treatments))]
    )
    return {
        "control": {
            "name": "control",
            "serving_name": control,
            "weight": round(1 - share * len(treatments), 4),
        },
        "treatments": [
            {"name": name, "serving_name": serving, "weight": share}
            for name, serving in zip(names, treatments, strict=True)
        ],
    }


@app.command()
def start(
    name: Annotated[str, typer.Option(help="Experiment name (lower case).")],
    model: Annotated[str, typer.Option(help="Requests for this model name join the test.")],
    control: Annotated[str, typer.Option(help="Serving name of the control version.")],
    treatment: Annotated[
        list[str], typer.Option(help="Serving name of a treatment (repeat for up to four).")
    ],
    weight: Annotated[
        float | None,
        typer.Option(min=0.0001, max=0.9999, help="Each treatment's share (default: equal)."),
    ] = None,
    metric: Annotated[
        str, typer.Option(help="gold_star_rate, mean_rating or task_success.")
    ] = "gold_star_rate",
    minimum_effect: Annotated[
        float, typer.Option(help="Smallest absolute difference worth detecting.")
    ] = 0.05,
    as_json: JsonFlag = False,
) -> None:
    """Split a model's traffic between a control and treatments."""
    body = {
        "name": name,
        "model_name": model,
        "primary_metric": metric,
        "minimum_detectable_effect": minimum_effect,
        **variants(control, treatment, weight),
    }
    with gateway(as_json) as client:
        created = client.post("/v1/experiments", body)
    if as_json:
        emit_json(created)
    else:
        show(f"[green]started[/] {created['name']} ({created['id']})")
        show(variant_table(created))


def variant_table(experiment: dict[str, Any]) -> Any:
    return table(
        None,
        ("variant", "serving name", "weight", "control"),
        (
            [v["name"], v["serving_name"], v["weight"], "yes" if v["is_control"] else ""]
            for v in experiment["variants"]
        ),
    )


@app.command("list")
def list_experiments(as_json: JsonFlag = False) -> None:
    """Every experiment, running or stopped."""
    with gateway(as_json) as client:
        found = client.get("/v1/experiments")
    if as_json:
        emit_json(found)
    elif not found:
        show("no experiments yet: start one with `tuneloop experiments start`")
    else:
        rows = (
            [e["id"], e["name"], e["model_name"], e["status"], len(e["variants"]), e["created_at"]]
            for e in found
        )
        show(table(None, ("id", "name", "model", "status", "variants", "created"), rows))


def find_experiment(client: ApiClient, experiment_id: str) -> dict[str, Any]:
    for experiment in client.get("/v1/experiments"):
        if experiment["id"] == experiment_id or experiment["name"] == experiment_id:
            found: dict[str, Any] = experiment
            return found
    raise fail(f"no experiment {experiment_id!r}; list them with `tuneloop experiments list`")


def verdict_of(client: ApiClient, experiment_id: str) -> dict[str, Any] | None:
    try:
        view: dict[str, Any] = client.get(f"/v1/evaluations/experiments/{experiment_id}")
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    return view


def show_verdict(view: dict[str, Any]) -> None:
    show(f"[bold]{view['status']}[/]: {view['summary']}")
    arms = (
        [
            a["variant"],
            a["serving_name"],
            a["n"],
            a["total"] / a["n"] if a["n"] else None,
            a["requests"],
            a["error_rate"],
        ]
        for a in view["arms"]
    )
    show(table("arms", ("variant", "serving name", "units", "mean", "requests", "errors"), arms))
    if view.get("recommendation"):
        show(f"recommendation: {view['recommendation']}")
    if not view["results"]:
        return
    results = (
        [
            r["variant"],
            r["difference"],
            f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]",
            r["adjusted_p_value"],
            r["method"],
        ]
        for r in view["results"]
    )
    columns = ("variant", "difference", "interval", "p (adj.)", "method")
    show(table("against control", columns, results))


@app.command("show")
def show_experiment(
    experiment_id: Annotated[str, typer.Argument(help="Experiment id or name.")],
    as_json: JsonFlag = False,
) -> None:
    """An experiment's variants, per-arm statistics and the verdict in words."""
    with gateway(as_json) as client:
        experiment = find_experiment(client, experiment_id)
        view = verdict_of(client, experiment["id"])
    if as_json:
        emit_json({"experiment": experiment, "evaluation": view})
        return
    show(
        f"[bold]{experiment['name']}[/] on {experiment['model_name']}: {experiment['status']}"
        + (f" ({experiment['stop_reason']})" if experiment.get("stop_reason") else "")
    )
    show(variant_table(experiment))
    if view is None:
        show("no statistics yet: the evaluator has not seen traffic for it")
    else:
        show_verdict(view)


@app.command()
def ramp(
    experiment_id: str,
    variant: Annotated[str, typer.Argument(help="Treatment to ramp.")],
    weight: Annotated[float, typer.Argument(help="Its new share, between 0 and 1.")],
    as_json: JsonFlag = False,
) -> None:
    """Change a treatment's share; units already in it stay in it."""
    with gateway(as_json) as client:
        updated = client.post(
            f"/v1/experiments/{experiment_id}/ramp", {"variant": variant, "weight": weight}
        )
    if as_json:
        emit_json(updated)
    else:
        show(variant_table(updated))


@app.command()
def stop(experiment_id: str, as_json: JsonFlag = False) -> None:
    """Stop an experiment; its model's traffic goes back to the alias."""
    with gateway(as_json) as client:
        stopped = client.post(f"/v1/experiments/{experiment_id}/stop")
    if as_json:
        emit_json(stopped)
    else:
        show(f"stopped {stopped['name']} ({stopped['id']})")


__all__ = ["app"]
