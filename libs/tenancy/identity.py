"""Who a request is for, as the gateway tells the services: signed, so a service can trust it.

The gateway checks the caller's API key, then forwards the key's tenant, key id and scopes in
``X-Tuneloop-Tenant``, ``X-Tuneloop-Key-Id`` and ``X-Tuneloop-Scopes`` with
``X-Tuneloop-Identity-Time`` (Unix seconds) and ``X-Tuneloop-Identity-Signature: v1=<hex>``,
the HMAC-SHA256, keyed with the internal secret every service shares, of::

    tuneloop-identity-v1 \\n tenant \\n key id \\n scopes \\n time \\n METHOD \\n path

(one per line, no spaces around the newlines). A service accepts the identity only when the
signature matches and the time is within :data:`MAX_AGE_SECONDS` of its own clock, so a header
typed by someone who reached a service's port directly, or copied to another route, counts
for nothing.
"""

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

TENANT_HEADER = "X-Tuneloop-Tenant"
KEY_ID_HEADER = "X-Tuneloop-Key-Id"
SCOPES_HEADER = "X-Tuneloop-Scopes"
TIME_HEADER = "X-Tuneloop-Identity-Time"
SIGNATURE_HEADER = "X-Tuneloop-Identity-Signature"
IDENTITY_HEADERS = (TENANT_HEADER, KEY_ID_HEADER, SCOPES_HEADER, TIME_HEADER, SIGNATURE_HEADER)
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_AGE_SECONDS = 60
MIN_SECRET_LENGTH = 32
VERSION = "v1"
_TENANT = re.compile(TENANT_PATTERN)
_TOKEN = re.compile(r"^[A-Za-z0-9_.:@-]*$")


@dataclass(frozen=True)
class Identity:
    tenant: str
    key_id: str = ""
    scopes: tuple[str, ...] = ()


class IdentityRejected(Exception):
    """The request's identity cannot be trusted; ``message`` says why and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def canonical(identity: Identity, timestamp: int, method: str, path: str) -> bytes:
    parts = [
        f"tuneloop-identity-{VERSION}",
        identity.tenant,
        identity.key_id,
        " ".join(identity.scopes),
        str(timestamp),
        method.upper(),
        path,
    ]
    return "\n".join(parts).encode()


class IdentitySigner:
    """Signs identities (the gateway, a service calling another) and verifies them."""

    def __init__(self, secret: str, max_age_seconds: float = MAX_AGE_SECONDS) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the internal secret must be at least {MIN_SECRET_LENGTH} characters")
        self._key = secret.encode()
        self.max_age_seconds = max_age_seconds

    def _mac(self, identity: Identity, timestamp: int, method: str, path: str) -> str:
        message = canonical(identity, timestamp, method, path)
        return f"{VERSION}={hmac.new(self._key, message, hashlib.sha256).hexdigest()}"

    def headers(
        self, identity: Identity, method: str, path: str, now: float | None = None
    ) -> dict[str, str]:
        """The identity headers of one request (``path`` without the query)."""
        for value in (identity.tenant, identity.key_id, *identity.scopes):
            if not _TOKEN.match(value):
                raise ValueError(f"{value!r} cannot be part of a signed identity")
        timestamp = int(time.time() if now is None else now)
        return {
            TENANT_HEADER: identity.tenant,
            KEY_ID_HEADER: identity.key_id,
            SCOPES_HEADER: " ".join(identity.scopes),
            TIME_HEADER: str(timestamp),
            SIGNATURE_HEADER: self._mac(identity, timestamp, method, path),
        }

    def verify(
        self, headers: Mapping[str, str], method: str, path: str, now: float | None = None
    ) -> Identity:
        """The signed identity of a request; raises :class:`IdentityRejected`."""
        tenant = header(headers, TENANT_HEADER)
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise unsigned(tenant)
        stamp = header(headers, TIME_HEADER)
        if not tenant or not _TENANT.match(tenant) or len(tenant) > 64 or not stamp.isdigit():
            raise bad_signature()
        key_id = header(headers, KEY_ID_HEADER)
        scopes = header(headers, SCOPES_HEADER)
        identity = Identity(tenant, key_id, tuple(scopes.split()))
        expected = self._mac(identity, int(stamp), method, path)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise bad_signature()
        age = (time.time() if now is None else now) - int(stamp)
        if abs(age) > self.max_age_seconds:
            raise IdentityRejected(
                "expired_identity",
                f"the gateway's signature is {abs(age):.0f} s {'old' if age > 0 else 'ahead'} "
                f"(at most {self.max_age_seconds:.0f} s are accepted); check the clocks of "
                "the gateway's and this service's machines",
            )
        return identity


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value from HTTP headers (any case) or a plain dict; ``""`` when absent."""
    return headers.get(name.lower()) or headers.get(name) or ""


def unsigned(tenant: str | None) -> IdentityRejected:
    claimed = f" (it claims tenant {tenant[:64]!r})" if tenant else ""
    return IdentityRejected(
        "unsigned_request",
        f"this request has no identity signed by the gateway{claimed}: call tuneloop through "
        "the gateway with an API key (`Authorization: Bearer tl_...`); services do not trust "
        "X-Tuneloop-* headers they cannot verify",
    )


def bad_signature() -> IdentityRejected:
    return IdentityRejected(
        "bad_identity_signature",
        "the identity's signature does not match: the request did not come from the gateway, "
        "was changed on the way, or the gateway and this service have different "
        "TUNELOOP_INTERNAL_SECRET values",
    )


__all__ = [
    "IDENTITY_HEADERS",
    "KEY_ID_HEADER",
    "MAX_AGE_SECONDS",
    "MIN_SECRET_LENGTH",
    "SCOPES_HEADER",
    "SIGNATURE_HEADER",
    "TENANT_HEADER",
    "TENANT_PATTERN",
    "TIME_HEADER",
    "Identity",
    "IdentityRejected",
    "IdentitySigner",
    "canonical",
    "header",
]
