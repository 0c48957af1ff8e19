"""``tuneloop retraining``: policies that retrain a model by themselves, and their runs."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import JsonFlag, emit_json, fail, pairs, show, table

app = typer.Typer(
    help="Continuous retraining: create, list, show, enable, disable policies; runs.",
    no_args_is_help=True,
)
POLICIES = "/v1/retraining/policies"
RUNS = "/v1/retraining/runs"
STATUS_STYLES = {
    "completed": "green",
    "skipped": "yellow",
    "failed": "red",
    "cancelled": "yellow",
}


def styled(status: str) -> str:
    return f"[{STATUS_STYLES.get(status, 'cyan')}]{status}[/]"


def trigger_text(trigger: dict[str, Any]) -> str:
    parts = []
    if trigger.get("gold_stars"):
        parts.append(f"every {trigger['gold_stars']} new gold stars")
    if trigger.get("schedule_seconds"):
        parts.append(f"every {trigger['schedule_seconds'] / 3600:g} h with new data")
    return " or ".join(parts)


def state_text(policy: dict[str, Any]) -> str:
    if policy.get("active_run_id"):
        return f"running {policy['active_run_id']}"
    if not policy["enabled"]:
        return "off"
    return f"waiting: {policy['waiting_for']}" if policy.get("waiting_for") else "on"


def from_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read the policy from {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise fail(f"{path} must hold a JSON object (a policy body)")
    return loaded


def section(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.setdefault(name, {})
    assert isinstance(value, dict)
    return value


def policy_body(
    model: str,
    base: dict[str, Any],
    gold_stars: int | None,
    every_hours: float | None,
    options: dict[tuple[str, str], Any],
) -> dict[str, Any]:
    """The create body: a file's policy with the options given on the command line on top."""
    body = {**base, "model_name": model}
    trigger = section(body, "trigger")
    if gold_stars is not None:
        trigger["gold_stars"] = gold_stars
    if every_hours is not None:
        trigger["schedule_seconds"] = max(1, round(every_hours * 3600))
    if not trigger:
        raise fail("say when to retrain: --gold-stars N, --every-hours H, or both")
    for (name, key), value in options.items():
        if value is not None:
            section(body, name)[key] = value
    return body


@app.command()
def create(
    model: Annotated[str, typer.Argument(help="Registry model to retrain.")],
    gold_stars: Annotated[
        int | None, typer.Option(min=1, help="Start a run after this many new gold stars.")
    ] = None,
    every_hours: Annotated[
        float | None, typer.Option(min=0.001, help="Or start one this often (with new data).")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset name of the runs' exports.")] = None,
    domain: Annotated[str | None, typer.Option(help="Only examples of this domain.")] = None,
    task_type: Annotated[str | None, typer.Option(help="Only examples of this task type.")] = None,
    test_fraction: Annotated[
        float | None, typer.Option(help="Share held out to evaluate on (default 0.1).")
    ] = None,
    base_model: Annotated[
        str | None, typer.Option(help="Base model (default: production's).")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="Offline metric (default normalized_match).")
    ] = None,
    margin: Annotated[
        float | None, typer.Option(help="Not worse: candidate >= serving - margin.")
    ] = None,
    weight: Annotated[
        float | None, typer.Option(help="Candidate's share of A/B traffic (default 0.5).")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    file: Annotated[
        Path | None, typer.Option("--from-file", help="A JSON policy body to start from.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Retrain MODEL by itself: export, train, compare offline with production, A/B test."""
    filters: dict[str, Any] = {}
    if domain is not None or task_type is not None:
        filters = {"gold_star_only": True, "domain": domain, "task_type": task_type}
    options: dict[tuple[str, str], Any] = {
        ("export", "dataset"): dataset,
        ("export", "filters"): filters or None,
        ("export", "test_fraction"): test_fraction,
        ("training", "base_model"): base_model,
        ("evaluation", "metric"): metric,
        ("evaluation", "margin"): margin,
        ("experiment", "treatment_weight"): weight,
    }
    body = policy_body(model, from_file(file), gold_stars, every_hours, options)
    if disabled:
        body["enabled"] = False
    with gateway(as_json) as client:
        created = client.post(POLICIES, body)
    if as_json:
        emit_json(created)
    else:
        show(f"[green]created[/] retraining of {model}: {trigger_text(created['trigger'])}")
        show_policy(created)


@app.command("list")
def list_policies(as_json: JsonFlag = False) -> None:
    """Every policy, with its new gold stars and what it is doing."""
    with gateway(as_json) as client:
        found = client.get(POLICIES)
    if as_json:
        emit_json(found)
    elif not found:
        show("no retraining policy yet: create one with `tuneloop retraining create MODEL`")
    else:
        rows = (
            [
                p["model_name"],
                trigger_text(p["trigger"]),
                p.get("new_gold_stars"),
                state_text(p),
                p["runs"],
            ]
            for p in found
        )
        show(table(None, ("model", "when", "new gold stars", "now", "runs"), rows))


def show_policy(policy: dict[str, Any]) -> None:
    evaluation, experiment = policy["evaluation"], policy["experiment"]
    show(
        pairs(
            policy["model_name"],
            {
                "enabled": policy["enabled"],
                "when": trigger_text(policy["trigger"]),
                "gold stars (new)": f"{policy.get('gold_stars')} ({policy.get('new_gold_stars')})",
                "next scheduled": policy.get("next_scheduled_at"),
                "now": state_text(policy),
                "dataset": policy["dataset"],
                "filters": policy["export"]["filters"],
                "base model": policy["training"].get("base_model") or "production's",
                "offline check": f"{evaluation['metric']}, margin {evaluation['margin']}",
                "A/B test": f"{experiment['treatment_weight']:.0%} of traffic, "
                f"{experiment['primary_metric']}",
                "last run": policy.get("last_run_id"),
            },
        )
    )


@app.command("show")
def show_command(
    model: Annotated[str, typer.Argument(help="Model of the policy.")],
    as_json: JsonFlag = False,
) -> None:
    """A policy in full and its latest runs."""
    with gateway(as_json) as client:
        policy = client.get(f"{POLICIES}/{model}")
        runs = client.get(RUNS, model_name=model, limit=5)["data"]
    if as_json:
        emit_json({"policy": policy, "runs": runs})
        return
    show_policy(policy)
    if runs:
        show(runs_table(runs))


def switch(model: str, action: str, as_json: bool) -> None:
    with gateway(as_json) as client:
        policy = client.post(f"{POLICIES}/{model}/{action}")
    if as_json:
        emit_json(policy)
    else:
        show(f"retraining of {model} is {'on' if policy['enabled'] else 'off'}")


@app.command()
def enable(model: str, as_json: JsonFlag = False) -> None:
    """Switch automatic runs on (the schedule starts again from now)."""
    switch(model, "enable", as_json)


@app.command()
def disable(model: str, as_json: JsonFlag = False) -> None:
    """Switch automatic runs off; a run going on finishes."""
    switch(model, "disable", as_json)


def runs_table(runs: list[dict[str, Any]]) -> Any:
    rows = (
        [r["id"], r["model_name"], styled(r["status"]), r["trigger"], r["created_at"], r["summary"]]
        for r in runs
    )
    return table("runs", ("run", "model", "status", "trigger", "started", "summary"), rows)


@app.command()
def runs(
    model: Annotated[str | None, typer.Argument(help="Only this model's runs.")] = None,
    status: Annotated[str | None, typer.Option(help="Only runs in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Runs, newest first, each with where it stands in words."""
    with gateway(as_json) as client:
        found = client.get(RUNS, model_name=model, status=status, limit=limit)["data"]
    if as_json:
        emit_json(found)
    elif not found:
        show("no run yet")
    else:
        show(runs_table(found))


@app.command()
def run(
    target: Annotated[str, typer.Argument(help="A model (start a run now) or a run id.")],
    as_json: JsonFlag = False,
) -> None:
    """Start a run of MODEL now, or show one run (`rtr_...`) step by step."""
    with gateway(as_json) as client:
        if target.startswith("rtr_"):
            found = client.get(f"{RUNS}/{target}")
        else:
            found = client.post(f"{POLICIES}/{target}/runs")
    if as_json:
        emit_json(found)
        return
    show(f"{found['id']} of {found['model_name']}: {styled(found['status'])}, {found['summary']}")
    if found.get("decision"):
        show(f"decision: {found['decision']}")
    steps = ([s["at"], styled(s["status"]), s["summary"]] for s in found["history"])
    show(table("steps", ("at", "status", "what happened"), steps))


@app.command()
def cancel(run_id: str, as_json: JsonFlag = False) -> None:
    """Stop following a run (its training job is cancelled; a live A/B test goes on)."""
    with gateway(as_json) as client:
        cancelled = client.post(f"{RUNS}/{run_id}/cancel")
    if as_json:
        emit_json(cancelled)
    else:
        show(f"{cancelled['id']}: {styled(cancelled['status'])}, {cancelled['summary']}")


__all__ = ["app"]
