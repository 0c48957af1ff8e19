"""``tuneloop keys``: API keys of the caller's tenant (needs the admin scope)."""

from typing import Annotated, Any

import typer

from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import JsonFlag, emit_json, show, stderr, table

app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
SCOPES = ("admin", "train", "deploy", "infer", "read")
KEY_COLUMNS = ("id", "name", "scopes", "tenant", "created_at", "last_used_at", "revoked_at")


def parse_scopes(text: str) -> list[str]:
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise typer.BadParameter(
            f"unknown scope(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(SCOPES)}"
        )
    return scopes


def key_list(body: Any) -> list[dict[str, Any]]:
    """The gateway may answer a list or an OpenAI-style ``{"data": [...]}``."""
    listed = body.get("data", []) if isinstance(body, dict) else body
    return list(listed or [])


@app.command()
def create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scopes: Annotated[
        str, typer.Option(help=f"Comma-separated scopes: {', '.join(SCOPES)}.")
    ] = "read",
    tenant: Annotated[
        str | None, typer.Option(help="Tenant of the key (admins only; default: yours).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a key; its secret is shown once, here, and never again."""
    body: dict[str, Any] = {"name": name, "scopes": parse_scopes(scopes)}
    if tenant:
        body["tenant"] = tenant
    with gateway(as_json) as client:
        created = client.post("/v1/keys", body)
    if as_json:
        emit_json(created)
        return
    show(created.get("key", ""))
    stderr.print(
        f"[green]created key {created.get('id')}[/] ({', '.join(created.get('scopes', []))}). "
        "Store the secret above now: it is not shown again."
    )


@app.command("list")
def list_keys(as_json: JsonFlag = False) -> None:
    """Keys of your tenant (never their secrets)."""
    with gateway(as_json) as client:
        keys = key_list(client.get("/v1/keys"))
    if as_json:
        emit_json(keys)
        return
    if not keys:
        show("no keys")
        return
    columns = [c for c in KEY_COLUMNS if any(c in k for k in keys)]
    rows = ([", ".join(k[c]) if c == "scopes" else k.get(c) for c in columns] for k in keys)
    show(table(None, columns, rows))


@app.command()
def revoke(key_id: str, as_json: JsonFlag = False) -> None:
    """Revoke a key at once; requests with it get 401 from now on."""
    with gateway(as_json) as client:
        revoked = client.delete(f"/v1/keys/{key_id}")
    if as_json:
        emit_json(revoked or {"revoked": key_id})
    else:
        show(f"revoked key {key_id}")


__all__ = ["app"]
