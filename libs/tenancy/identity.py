"""Who a request is for, as the gateway tells the services: signed, so a service can trust it.

The gateway checks the caller's API key, then forwards the key's tenant, key id and scopes in
``X-Tuneloop-Tenant``, ``X-Tuneloop-Key-Id`` and ``X-Tuneloop-Scopes`` with
``X-Tuneloop-Identity-Time`` (Unix seconds), ``X-Tuneloop-Identity-Nonce`` (random, once),
``X-Tuneloop-Body-Digest`` and ``X-Tuneloop-Identity-Signature: v2=<hex>``, the HMAC-SHA256,
keyed with the internal secret every service shares, of::

    tuneloop-identity-v2 \\n tenant \\n key id \\n scopes \\n time \\n nonce \\n METHOD
    \\n path?query \\n body digest

(one per line; the path and query exactly as sent, still percent-encoded). The body digest is
``sha256=<hex>`` of the body when it is at most :data:`BODY_DIGEST_LIMIT` bytes long; a longer
body (an upload streamed through) is covered by ``length=<Content-Length>`` only, and a body
streamed without a length by ``unsigned``: hashing it first would mean holding it or reading
it twice.

A service accepts the identity only when the signature matches, the time is within
``max_age_seconds`` (default :data:`MAX_AGE_SECONDS`) of its own clock, the nonce was not seen
before (a bounded in-memory cache per process: a replica does not know another's nonces, and
under more than ``MAX_NONCES`` requests per time window the oldest are forgotten first), and
the body matches its digest or length. So a header typed by someone who reached a service's
port directly, a request copied to another route, query or body, or one played again, counts
for nothing.
"""

import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

TENANT_HEADER = "X-Tuneloop-Tenant"
KEY_ID_HEADER = "X-Tuneloop-Key-Id"
SCOPES_HEADER = "X-Tuneloop-Scopes"
TIME_HEADER = "X-Tuneloop-Identity-Time"
NONCE_HEADER = "X-Tuneloop-Identity-Nonce"
BODY_HEADER = "X-Tuneloop-Body-Digest"
SIGNATURE_HEADER = "X-Tuneloop-Identity-Signature"
IDENTITY_HEADERS = (
    TENANT_HEADER,
    KEY_ID_HEADER,
    SCOPES_HEADER,
    TIME_HEADER,
    NONCE_HEADER,
    BODY_HEADER,
    SIGNATURE_HEADER,
)
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_AGE_SECONDS = 60
MIN_SECRET_LENGTH = 32
BODY_DIGEST_LIMIT = 1024 * 1024
"""Bodies up to this many bytes are signed by their sha256; longer ones by their length."""
MAX_NONCES = 100_000
VERSION = "v2"
UNSIGNED_BODY = "unsigned"
_TENANT = re.compile(TENANT_PATTERN)
_TOKEN = re.compile(r"^[A-Za-z0-9_.:@-]*$")
_NONCE = re.compile(r"^[0-9a-f]{16,64}$")
_BODY = re.compile(r"^(sha256=[0-9a-f]{64}|length=[0-9]{1,15}|unsigned)$")


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


def body_digest(body: bytes) -> str:
    """The body claim of a body the signer holds whole."""
    if len(body) > BODY_DIGEST_LIMIT:
        return f"length={len(body)}"
    return f"sha256={hashlib.sha256(body).hexdigest()}"


def streamed_body(length: int | None) -> str:
    """The body claim of a body streamed through without being held (longer than the limit,
    or of unknown length)."""
    return UNSIGNED_BODY if length is None else f"length={length}"


def target_of(raw_path: str, query: str = "") -> str:
    """The signed target: the path as sent (percent-encoded) and its query, if any."""
    path = raw_path.split("?", 1)[0]
    return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class Stamp:
    """What makes one signature unique: its time, its nonce and its body's claim."""

    timestamp: int
    nonce: str
    body: str


def canonical(identity: Identity, stamp: Stamp, method: str, target: str) -> bytes:
    parts = [
        f"tuneloop-identity-{VERSION}",
        identity.tenant,
        identity.key_id,
        " ".join(identity.scopes),
        str(stamp.timestamp),
        stamp.nonce,
        method.upper(),
        target,
        stamp.body,
    ]
    return "\n".join(parts).encode()


class NonceCache:
    """Nonces seen within the accepted clock window, at most ``limit`` (oldest forgotten)."""

    def __init__(self, keep_seconds: float, limit: int = MAX_NONCES) -> None:
        self.keep_seconds = keep_seconds
        self.limit = limit
        self._until: OrderedDict[str, float] = OrderedDict()

    def first_use(self, nonce: str, now: float) -> bool:
        """Record ``nonce``; ``False`` if it was seen (and not yet forgotten) before."""
        while self._until:
            oldest, until = next(iter(self._until.items()))
            if until > now:
                break
            del self._until[oldest]
        if nonce in self._until:
            return False
        self._until[nonce] = now + self.keep_seconds
        while len(self._until) > self.limit:
            self._until.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._until)


class IdentitySigner:
    """Signs identities (the gateway, a service calling another) and verifies them; a
    verifier remembers the nonces it accepted, so one signer per process."""

    def __init__(
        self,
        secret: str,
        max_age_seconds: float = MAX_AGE_SECONDS,
        max_nonces: int = MAX_NONCES,
    ) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the internal secret must be at least {MIN_SECRET_LENGTH} characters")
        self._key = secret.encode()
        self.max_age_seconds = max_age_seconds
        # a signature is fresh for max_age either side of the clock: remember its nonce as long
        self.nonces = NonceCache(2 * max_age_seconds + 1, max_nonces)

    def _mac(self, identity: Identity, stamp: Stamp, method: str, target: str) -> str:
        message = canonical(identity, stamp, method, target)
        return f"{VERSION}={hmac.new(self._key, message, hashlib.sha256).hexdigest()}"

    def headers(
        self,
        identity: Identity,
        method: str,
        target: str,
        body: str | bytes = b"",
        now: float | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """The identity headers of one request: ``target`` is the path and query as sent,
        ``body`` the body itself or its claim (:func:`body_digest`, :func:`streamed_body`)."""
        for value in (identity.tenant, identity.key_id, *identity.scopes):
            if not _TOKEN.match(value):
                raise ValueError(f"{value!r} cannot be part of a signed identity")
        claim = body if isinstance(body, str) else body_digest(body)
        stamp = Stamp(
            int(time.time() if now is None else now), nonce or secrets.token_hex(16), claim
        )
        return {
            TENANT_HEADER: identity.tenant,
            KEY_ID_HEADER: identity.key_id,
            SCOPES_HEADER: " ".join(identity.scopes),
            TIME_HEADER: str(stamp.timestamp),
            NONCE_HEADER: stamp.nonce,
            BODY_HEADER: stamp.body,
            SIGNATURE_HEADER: self._mac(identity, stamp, method, target),
        }

    def verify(
        self, headers: Mapping[str, str], method: str, target: str, now: float | None = None
    ) -> Identity:
        """The signed identity of a request (``target``: its path and query as received);
        raises :class:`IdentityRejected`. The body is checked apart, against
        :func:`claimed_body` (:func:`check_body`), once it is read."""
        tenant = header(headers, TENANT_HEADER)
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise unsigned(tenant)
        stamp = header(headers, TIME_HEADER)
        nonce = header(headers, NONCE_HEADER)
        body = header(headers, BODY_HEADER)
        if (
            not tenant
            or not _TENANT.match(tenant)
            or len(tenant) > 64
            or not stamp.isdigit()
            or not _NONCE.match(nonce)
            or not _BODY.match(body)
        ):
            raise bad_signature()
        key_id = header(headers, KEY_ID_HEADER)
        scopes = header(headers, SCOPES_HEADER)
        identity = Identity(tenant, key_id, tuple(scopes.split()))
        expected = self._mac(identity, Stamp(int(stamp), nonce, body), method, target)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise bad_signature()
        clock = time.time() if now is None else now
        age = clock - int(stamp)
        if abs(age) > self.max_age_seconds:
            raise IdentityRejected(
                "expired_identity",
                f"the gateway's signature is {abs(age):.0f} s {'old' if age > 0 else 'ahead'} "
                f"(at most {self.max_age_seconds:.0f} s are accepted); check the clocks of "
                "the gateway's and this service's machines",
            )
        if not self.nonces.first_use(nonce, clock):
            raise IdentityRejected(
                "replayed_request",
                "this signed request was received before (its nonce is used): the gateway "
                "signs every request anew, so this is a copy played again; send a new request "
                "through the gateway",
            )
        return identity


def claimed_body(headers: Mapping[str, str]) -> str:
    """The body claim a verified request carries."""
    return header(headers, BODY_HEADER)


def check_body(claim: str, body: bytes | None, declared_length: str | None) -> None:
    """Raise :class:`IdentityRejected` unless the request's body is the signed one: its
    sha256 (``body`` must then be read), or its declared length for a streamed body."""
    if claim.startswith("sha256="):
        if body is None or not hmac.compare_digest(claim, body_digest_of(body)):
            raise body_mismatch()
    elif claim.startswith("length=") and (declared_length or "").strip() != claim[7:]:
        raise body_mismatch()


def body_digest_of(body: bytes) -> str:
    return f"sha256={hashlib.sha256(body).hexdigest()}"


def body_mismatch() -> IdentityRejected:
    return IdentityRejected(
        "bad_body_digest",
        "the request's body is not the one the gateway signed (it was changed on the way, "
        "or the request was built by hand); send it through the gateway",
    )


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
    "BODY_DIGEST_LIMIT",
    "BODY_HEADER",
    "IDENTITY_HEADERS",
    "KEY_ID_HEADER",
    "MAX_AGE_SECONDS",
    "MAX_NONCES",
    "MIN_SECRET_LENGTH",
    "NONCE_HEADER",
    "SCOPES_HEADER",
    "SIGNATURE_HEADER",
    "TENANT_HEADER",
    "TENANT_PATTERN",
    "TIME_HEADER",
    "Identity",
    "IdentityRejected",
    "IdentitySigner",
    "NonceCache",
    "Stamp",
    "body_digest",
    "canonical",
    "check_body",
    "claimed_body",
    "header",
    "streamed_body",
    "target_of",
]
