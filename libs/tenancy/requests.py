"""The services' side: a route's verified tenant (a FastAPI dependency), the app's signer, and
the 401 a request without a trustworthy identity gets, in a shape both OpenAI's SDK and
tuneloop's clients read (``{"error": {"message", "type", "param", "code"}}``)."""

from collections.abc import Generator
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from libs.tenancy.identity import (
    IDENTITY_HEADERS,
    SIGNATURE_HEADER,
    TENANT_HEADER,
    Identity,
    IdentityRejected,
    IdentitySigner,
    header,
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


def verified_identity(request: Request) -> Identity:
    """The identity the gateway signed for this request; raises :class:`IdentityRejected`.
    Verified once per request (several dependencies may ask)."""
    known = getattr(request.state, "tuneloop_identity", None)
    if isinstance(known, Identity):
        return known
    identity = signer_of(request).verify(request.headers, request.method, request.url.path)
    request.state.tuneloop_identity = identity
    return identity


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
    return verified_identity(request).tenant


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
    ``X-Tuneloop-Tenant`` (or ``default``) is signed."""

    def __init__(self, signer: IdentitySigner, identity: Identity | None = None) -> None:
        self.signer = signer
        self.identity = identity

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        identity = self.identity or Identity(
            header(request.headers, TENANT_HEADER) or DEFAULT_TENANT
        )
        request.headers.update(self.signer.headers(identity, request.method, request.url.path))
        yield request


__all__ = [
    "DEFAULT_TENANT",
    "SignedAs",
    "SignedIdentity",
    "Tenant",
    "carries_identity",
    "protect",
    "rejected",
    "request_identity",
    "request_tenant",
    "signer_of",
    "verified_identity",
]
