"""API keys: ``tl_<8-char id>_<secret>``, of which only the secret's sha256 is kept.

The secret has 256 bits of entropy, so one sha256 (no slow hash) is enough to make a stolen
table useless; comparison is constant-time.
"""

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

SCOPES = ("admin", "train", "deploy", "infer", "read")
KEY_PREFIX = "tl"
ID_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 8
KEY_PATTERN = re.compile(r"^tl_([a-z0-9]{8})_([A-Za-z0-9_-]{20,128})$")
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret: str

    @property
    def token(self) -> str:
        """The full key, shown to its owner once."""
        return f"{KEY_PREFIX}_{self.key_id}_{self.secret}"


def new_key() -> NewKey:
    key_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
    return NewKey(key_id, secrets.token_urlsafe(32))


def parse_key(token: str) -> NewKey | None:
    """The id and secret of a well-formed key, or ``None``."""
    match = KEY_PATTERN.match(token)
    return NewKey(match.group(1), match.group(2)) if match else None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_sha256)


def parse_scopes(text: str) -> tuple[str, ...]:
    """Scopes from ``"train,read"`` or ``"train read"``; raises ``ValueError`` naming a bad one."""
    scopes = [s for s in re.split(r"[,\s]+", text.strip()) if s]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"unknown scope {unknown[0]!r}" if unknown else "no scope given")
    return tuple(dict.fromkeys(scopes))


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    kind, _, token = authorization.partition(" ")
    return token.strip() if kind.lower() == "bearer" and token.strip() else None


__all__ = [
    "SCOPES",
    "TENANT_PATTERN",
    "NewKey",
    "bearer_token",
    "new_key",
    "parse_key",
    "parse_scopes",
    "secret_hash",
    "secret_matches",
]
