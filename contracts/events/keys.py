"""Events of the gateway's key store."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from contracts.envelope import Event


class ApiKeyRevoked(Event):
    """An API key was revoked: every replica that remembers the key forgets it at once."""

    type: Literal["api_key.revoked"] = "api_key.revoked"
    key_id: str = Field(min_length=1, description="The key's public id (`tl_<id>_...`).")
    revoked_at: datetime
    actor: str | None = Field(default=None, description="The admin key that revoked it.")
