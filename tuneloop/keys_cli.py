"""``tuneloop keys issue``: an operator makes a key directly on the database (no gateway
needed), e.g. the first key of a new tenant or a replacement for a lost admin key."""

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console

from libs.config import ConfigurationError, TuneloopSettings, load_settings
from libs.storage import DatabaseUnavailable, migrate_to_head
from services.gateway.bootstrap import create_key
from services.gateway.keys import parse_scopes
from services.gateway.keystore import KeyRequestError

console = Console(stderr=True)


def issue_key(
    tenant: Annotated[str, typer.Option(help="Tenant the key acts for.")] = "default",
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: admin, train, deploy, infer, read.")
    ] = "admin",
    name: Annotated[str, typer.Option(help="What the key is for.")] = "created by an operator",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Make a key directly on the database, for operators without one (the first key of a
    tenant, a lost admin key); it is printed once and stored hashed."""
    try:
        settings = load_settings(TuneloopSettings)
        chosen = parse_scopes(scopes)
        url = settings.resolved_database_url()
        settings.home.mkdir(parents=True, exist_ok=True)
        asyncio.run(migrate_to_head(url))
        created = asyncio.run(create_key(url, tenant, name, chosen))
    except (ConfigurationError, DatabaseUnavailable, KeyRequestError) as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except ValueError as exc:
        console.print(
            f"[bold red]error:[/] --scopes: {exc}; use admin, train, deploy, infer or read",
            highlight=False,
        )
        raise typer.Exit(1) from None
    if as_json:
        row = created.row
        print(
            json.dumps(
                {"id": row.id, "tenant": row.tenant, "scopes": list(chosen), "key": created.token}
            )
        )
        return
    console.print(
        f"key [bold]{created.row.id}[/] for tenant [bold]{tenant}[/] "
        f"({', '.join(chosen)}); it is shown this once:",
        highlight=False,
    )
    print(created.token)


__all__ = ["issue_key"]
