"""Who started a job, in words: an API key's name instead of its id.

The signed-in key reads its own name and scopes (``GET /v1/me``). Other keys' names come
from ``GET /v1/keys``, which only an admin's key may read, so it is asked only then; for
other keys the page falls back to the id (``key k1b2c3d4``), and to "you" for the signed-in
key.
"""

from dataclasses import dataclass, field
from typing import Any

from services.gateway.dashboard.client import V1, ApiError
from services.gateway.keys import parse_key


@dataclass(frozen=True)
class Owners:
    """The names of the keys the caller may see, and which key is the caller's."""

    mine: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    choices: list[tuple[str, str]] = field(default_factory=list)
    """(id, name) of the caller's tenant's other keys, by name: the filter's options."""

    def label(self, key_id: str) -> str:
        name = self.names.get(key_id)
        if key_id == self.mine:
            return f"{name} (you)" if name else "you"
        return name or f"key {key_id}"


def key_id_of(api_key: str | None) -> str | None:
    parsed = parse_key(api_key) if api_key else None
    return parsed.key_id if parsed else None


def owners_from(keys: list[dict[str, Any]], mine: str | None) -> Owners:
    names = {
        key["id"]: key["name"] + (" (revoked)" if key.get("revoked_at") else "") for key in keys
    }
    tenant = next((key["tenant"] for key in keys if key["id"] == mine), None)
    choices = sorted(
        (
            (key["id"], names[key["id"]])
            for key in keys
            if key["id"] != mine and key["tenant"] == tenant
        ),
        key=lambda choice: (choice[1].lower(), choice[0]),
    )
    return Owners(mine, names, choices)


async def owners(v1: V1, api_key: str | None) -> Owners:
    """The key names an admin sees; without the admin scope, the caller's own name only (and
    ids for the others); if the keys cannot be read, ids only, and "you"."""
    mine = key_id_of(api_key)
    try:
        me = await v1.get("/v1/me")
        mine = me["id"]
        if "admin" not in me["scopes"]:
            return Owners(mine, {mine: me["name"]} if me["name"] else {})
        body = await v1.get("/v1/keys")
    except ApiError as error:
        if error.status == 401:
            raise
        return Owners(mine)
    return owners_from(list(body["data"]), mine)


__all__ = ["Owners", "key_id_of", "owners", "owners_from"]
