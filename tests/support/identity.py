"""Tests call services as the gateway does: with an identity signed with the internal secret
the services under test are given (``internal_secret=TEST_SECRET`` in their settings)."""

from collections.abc import Generator

import httpx
from fastapi import FastAPI

from libs.tenancy import TENANT_HEADER, Identity, IdentitySigner, SignedAs, protect
from libs.tenancy.requests import body_of, signed_target

TEST_SECRET = "tuneloop-tests-internal-secret-0123456789"
SIGNER = IdentitySigner(TEST_SECRET)


def as_gateway() -> SignedAs:
    """An ``httpx`` auth signing each request's ``X-Tuneloop-Tenant`` (``default`` without)."""
    return SignedAs(SIGNER)


class ClaimedTenantsSigned(httpx.Auth):
    """Signs the requests that name a tenant in ``X-Tuneloop-Tenant`` and leaves the others
    as they are: for the router, whose direct callers send an API key or nothing."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        tenant = request.headers.get(TENANT_HEADER)
        if tenant:
            request.headers.update(
                SIGNER.headers(
                    Identity(tenant), request.method, signed_target(request), body_of(request)
                )
            )
        yield request


def protected(api: FastAPI) -> FastAPI:
    """A service's app built without its process (``create_api``), checking like one."""
    protect(api, SIGNER)
    return api


__all__ = ["SIGNER", "TEST_SECRET", "ClaimedTenantsSigned", "as_gateway", "protected"]
