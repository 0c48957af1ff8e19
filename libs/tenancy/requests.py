"""The services' side: a route's verified tenant (a FastAPI dependency), the app's signer, and
the 401 a request without a trustworthy identity gets, in a shape both OpenAI's SDK and
tuneloop's clients read (``{"error": {"message", "type", "param", "code"}}``)."""

from collections.abc import Generator
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from libs.tenancy.identity import (
    BODY_DIGEST_LIMIT,
    IDENTITY_HEADERS,
    SIGNATURE_HEADER,
    TENANT_HEADER,
    Identity,
    IdentityRejected,
    IdentitySigner,
    check_body,
    claimed_body,
    header,
    streamed_body,
    target_of,
)

DEFAULT_TENANT = "default"


def protect(app: FastAPI, signer: IdentitySigner | None) -> None:
    """Make ``app``'s :data:`Tenant` routes verify the gateway's signature with ``signer``
    (``None``: the service has no internal secret, and refuses every such request)."""
    app.state.identity_signer = signer
    app.add_exception_handler(IdentityRejected, rejected)  # type: ignore[arg-type]


async def rejected(_: Request, exc: IdentityRejected) -> JSONResponse:
    body = {
        "error": {
            "message": exc.message,
            "type": "authentication_error",
            "param": None,
            "code": exc.code,
        }
    }
    return JSONResponse(body, status_code=401)


def signer_of(request: Request) -> IdentitySigner:
    signer: IdentitySigner | None = getattr(request.app.state, "identity_signer", None)
    if signer is None:
        raise IdentityRejected(
            "no_internal_secret",
            "this service cannot check who is calling: it has no internal secret; set "
            "TUNELOOP_INTERNAL_SECRET to the gateway's (`tuneloop up` does it)",
        )
    return signer


def carries_identity(request: Request) -> bool:
    """Whether the request claims an identity at all (signed or not)."""
    return any(name in request.headers for name in IDENTITY_HEADERS)


def request_target(request: Request) -> str:
    """The path (as sent, percent-encoded) and query the request arrived with."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.scope.get("query_string", b"")
    return target_of(path, query.decode("latin-1") if isinstance(query, bytes) else "")


def verified_identity(request: Request) -> Identity:
    """The identity the gateway signed for this request (its method, path, query, time and
    nonce); raises :class:`IdentityRejected`. Verified once per request (several dependencies
    may ask, and a nonce counts once). The body is checked by :func:`verified_body`."""
    known = getattr(request.state, "tuneloop_identity", None)
    if isinstance(known, Identity):
        return known
    identity = signer_of(request).verify(request.headers, request.method, request_target(request))
    request.state.tuneloop_identity = identity
    return identity


async def verified_body(request: Request) -> None:
    """Check the body against the signed claim: its sha256 (read now, and kept for the route),
    or the declared length of a body streamed through."""
    claim = claimed_body(request.headers)
    body = await request.body() if claim.startswith("sha256=") else None
    check_body(claim, body, request.headers.get("content-length"))


async def request_tenant(
    request: Request,
    _tenant: Annotated[
        str | None,
        Header(
            alias=TENANT_HEADER,
            description="Tenant of the request, set by the gateway from the caller's API key "
            "and signed with the other X-Tuneloop-* headers; one tenant never sees another's "
            "data.",
        ),
    ] = None,
    _signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER,
            description="The gateway's signature of the identity headers; requests without "
            "a valid one get 401.",
        ),
    ] = None,
) -> str:
    identity = verified_identity(request)
    if not getattr(request.state, "tuneloop_body_checked", False):
        await verified_body(request)
        request.state.tuneloop_body_checked = True
    return identity.tenant


Tenant = Annotated[str, Depends(request_tenant)]
"""A route's tenant, verified: use as ``tenant: Tenant = DEFAULT_TENANT`` (the default only
keeps call sites readable; a request without a valid signature is a 401)."""


async def request_identity(request: Request, _tenant: Tenant = DEFAULT_TENANT) -> Identity:
    return verified_identity(request)


SignedIdentity = Annotated[Identity, Depends(request_identity)]
"""The whole verified identity of a route's caller: tenant, API key id and scopes."""


class SignedAs(httpx.Auth):
    """Signs every request of an ``httpx`` client: a service calling another as a tenant, or a
    test calling a service as the gateway would. Without ``identity`` the request's own
    ``X-Tuneloop-Tenant`` (or ``default``) is signed. A body built whole (JSON, bytes) is
    hashed; one streamed (a multipart upload, an iterator) is signed by its length, never read
    ahead."""

    def __init__(self, signer: IdentitySigner, identity: Identity | None = None) -> None:
        self.signer = signer
        self.identity = identity

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        identity = self.identity or Identity(
            header(request.headers, TENANT_HEADER) or DEFAULT_TENANT
        )
        request.headers.update(
            self.signer.headers(identity, request.method, signed_target(request), body_of(request))
        )
        yield request


def signed_target(request: httpx.Request) -> str:
    """The path and query an ``httpx`` request is sent with."""
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    return target_of(path, query)


def body_of(request: httpx.Request) -> str | bytes:
    """The body to sign: its bytes when read and within the limit, else the length it is
    sent with (``unsigned`` when it is sent in chunks, without one)."""
    length = request.headers.get("content-length")
    declared = int(length) if length and length.isdigit() else None
    try:
        content = request.content
    except httpx.RequestNotRead:
        return streamed_body(declared)
    return content if len(content) <= BODY_DIGEST_LIMIT else streamed_body(declared)


__all__ = [
    "DEFAULT_TENANT",
    "SignedAs",
    "SignedIdentity",
    "Tenant",
    "carries_identity",
    "protect",
    "rejected",
    "request_identity",
    "request_target",
    "request_tenant",
    "signed_target",
    "signer_of",
    "verified_body",
    "verified_identity",
]
