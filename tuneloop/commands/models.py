"""``tuneloop models``: the registry's models, versions, deployments and rollbacks."""

from typing import Annotated, Any

import typer

from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import JsonFlag, emit_json, pairs, show, table

app = typer.Typer(help="Models in the registry: list, show, deploy, roll back, compare.")
app.info.no_args_is_help = True
STATUS_STYLES = {"deployed": "green", "ready": "cyan", "failed": "red", "archived": "dim"}


def aliases_text(model: dict[str, Any]) -> str:
    return ", ".join(f"{a['alias']}→v{a['version']}" for a in model["aliases"])


@app.command("list")
def list_models(as_json: JsonFlag = False) -> None:
    """Every model with its latest version and what each alias serves."""
    with gateway(as_json) as client:
        models = client.get("/v1/registry/models")
    if as_json:
        emit_json(models)
    elif not models:
        show("no models yet: a fine-tuning job that succeeds registers one")
    else:
        rows = ([m["name"], m["latest_version"], aliases_text(m), m["created_at"]] for m in models)
        show(table(None, ("model", "latest", "aliases", "created"), rows))


def version_row(v: dict[str, Any]) -> list[Any]:
    status = f"[{STATUS_STYLES.get(v['status'], 'white')}]{v['status']}[/]"
    dataset = f"{v['dataset']} v{v['dataset_version']}" if v.get("dataset") else ""
    loss = v.get("training_metrics", {}).get("train_loss")
    return [
        v["version"],
        status,
        v["serving_name"],
        v["base_model"],
        dataset,
        loss,
        ", ".join(v.get("aliases", [])),
    ]


VERSION_COLUMNS = ("version", "status", "serving name", "base", "dataset", "loss", "aliases")


@app.command("show")
def show_model(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int | None, typer.Argument(help="One version in detail.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """A model's versions, or one version with its lineage, metrics and cost."""
    with gateway(as_json) as client:
        if version is not None:
            detail = client.get(f"/v1/registry/models/{name}/versions/{version}")
        else:
            detail = client.get(f"/v1/registry/models/{name}/versions")
    if as_json:
        emit_json(detail)
    elif version is None:
        show(table(name, VERSION_COLUMNS, (version_row(v) for v in detail)))
    else:
        show(pairs(f"{name} v{version}", {k: v for k, v in detail.items() if v not in (None, {})}))


def show_alias(alias: dict[str, Any], verb: str) -> None:
    show(
        f"[green]{verb}[/] {alias['model_name']}:{alias['alias']} → v{alias['version']} "
        f"({alias['serving_name']}, revision {alias['revision']})"
    )


@app.command()
def deploy(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version to serve.")],
    alias: Annotated[str, typer.Option(help="Alias to point at it.")] = "production",
    note: Annotated[str, typer.Option(help="Why; kept in the history.")] = "",
    expected_revision: Annotated[
        int | None, typer.Option(help="Refuse if the alias changed since this revision.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Point an alias at a version; the router loads it before moving traffic."""
    body = {
        "version": version,
        "alias": alias,
        "notes": note,
        "actor": "cli",
        "expected_revision": expected_revision,
    }
    with gateway(as_json) as client:
        moved = client.post(f"/v1/registry/models/{name}/deployments", body)
    if as_json:
        emit_json(moved)
    else:
        show_alias(moved, "deployed")


@app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="Model name.")],
    note: Annotated[str, typer.Option(help="Why; kept in the history.")],
    alias: Annotated[str, typer.Option(help="Alias to move back.")] = "production",
    to_version: Annotated[
        int | None, typer.Option(help="Version to go back to (default: the previous one).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Point an alias back at its previous version (or --to-version)."""
    body = {"to_version": to_version, "notes": note, "actor": "cli"}
    with gateway(as_json) as client:
        moved = client.post(f"/v1/registry/models/{name}/aliases/{alias}/rollback", body)
    if as_json:
        emit_json(moved)
    else:
        show_alias(moved, "rolled back")


@app.command()
def history(
    name: str,
    alias: Annotated[str | None, typer.Option(help="Only this alias.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every deploy, rollback and archive of a model, oldest first."""
    with gateway(as_json) as client:
        records = client.get(f"/v1/registry/models/{name}/history", alias=alias)
    if as_json:
        emit_json(records)
        return
    rows = (
        [
            r["created_at"],
            r["action"],
            r["alias"],
            r["from_version"],
            r["to_version"],
            r["actor"],
            r["notes"],
        ]
        for r in records
    )
    show(table(name, ("when", "action", "alias", "from", "to", "who", "notes"), rows))


@app.command()
def compare(
    name: str,
    a: Annotated[int, typer.Argument(help="First version.")],
    b: Annotated[int, typer.Argument(help="Second version.")],
    as_json: JsonFlag = False,
) -> None:
    """Two versions side by side: lineage, config and metric differences."""
    with gateway(as_json) as client:
        comparison = client.get(f"/v1/registry/models/{name}/compare", a=a, b=b)
    if as_json:
        emit_json(comparison)
        return
    left, right = comparison["a"], comparison["b"]
    fields = ("status", "serving_name", "base_model", "dataset", "dataset_version", "job_id")
    rows = [[f, left.get(f), right.get(f)] for f in fields]
    metrics = sorted(
        {
            **left["training_metrics"],
            **left["quality_metrics"],
            **right["training_metrics"],
            **right["quality_metrics"],
        }
    )
    for metric in metrics:
        rows.append([metric, metric_of(left, metric), metric_of(right, metric)])
    for key, (old, new) in comparison["config_differences"].items():
        rows.append([f"config {key}", old, new])
    show(table(f"{name}: v{a} against v{b}", ("", f"v{a}", f"v{b}"), rows))


def metric_of(version: dict[str, Any], metric: str) -> Any:
    return version["training_metrics"].get(metric, version["quality_metrics"].get(metric))


__all__ = ["app"]
