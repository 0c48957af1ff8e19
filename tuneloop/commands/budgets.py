"""``tuneloop budgets``: spending limits per tenant, kind of work or job."""

from typing import Annotated

import typer

from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import JsonFlag, emit_json, show, table

app = typer.Typer(help="Budgets: list, set, delete.", no_args_is_help=True)
STATE_STYLES = {"ok": "green", "alerted": "yellow", "exceeded": "red"}


@app.command("list")
def list_budgets(as_json: JsonFlag = False) -> None:
    """Every budget with what has been spent in its current period."""
    with gateway(as_json) as client:
        budgets = client.get("/v1/budgets")
    if as_json:
        emit_json(budgets)
    elif not budgets:
        show("no budgets: set one with `tuneloop budgets set --limit 50`")
    else:
        rows = (
            [
                b["budget_id"],
                b["scope"] + (f" {b['job_id']}" if b.get("job_id") else ""),
                b["period"],
                f"${b['limit_usd']}",
                f"${b['spent_usd']}",
                f"${b['remaining_usd']}",
                f"[{STATE_STYLES.get(b['state'], 'white')}]{b['state']}[/]",
            ]
            for b in budgets
        )
        columns = ("id", "scope", "period", "limit", "spent", "remaining", "state")
        show(table(None, columns, rows))


@app.command("set")
def set_budget(
    limit: Annotated[str, typer.Option(help="Limit in USD, e.g. 50 or 12.5.")],
    scope: Annotated[str, typer.Option(help="tenant, training, inference or job.")] = "tenant",
    period: Annotated[str, typer.Option(help="day, month or total.")] = "month",
    job: Annotated[str | None, typer.Option(help="The job, when the scope is `job`.")] = None,
    alert_at: Annotated[str, typer.Option(help="Alert at this share of the limit.")] = "0.8",
    as_json: JsonFlag = False,
) -> None:
    """Create a budget; alerts fire at --alert-at and at the limit."""
    body = {"scope": scope, "period": period, "limit_usd": limit, "alert_at": alert_at}
    if job:
        body["job_id"] = job
    with gateway(as_json) as client:
        created = client.post("/v1/budgets", body)
    if as_json:
        emit_json(created)
    else:
        show(
            f"[green]budget {created['budget_id']}[/]: ${created['limit_usd']} per "
            f"{created['period']} on {created['scope']}"
        )


@app.command()
def delete(budget_id: str, as_json: JsonFlag = False) -> None:
    """Remove a budget."""
    with gateway(as_json) as client:
        client.delete(f"/v1/budgets/{budget_id}")
    if as_json:
        emit_json({"deleted": budget_id})
    else:
        show(f"deleted budget {budget_id}")


__all__ = ["app"]
