"""The tenant of an HTTP request, as every service reads it.

The gateway authenticates the caller and forwards the key's tenant in ``X-Tuneloop-Tenant``
(it drops any such header a client sends). Services trust it from the internal network and
scope every query to it: lists show the tenant's rows only, another tenant's id is a 404
exactly like an unknown one, and creates belong to the header's tenant (request bodies have
no tenant field; one sent anyway is rejected as an unknown field). Without the header (a
direct call on a developer's machine) the tenant is ``default``.
"""

from typing import Annotated

from fastapi import Header

TENANT_HEADER = "X-Tuneloop-Tenant"
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
DEFAULT_TENANT = "default"

Tenant = Annotated[
    str,
    Header(
        alias=TENANT_HEADER,
        pattern=TENANT_PATTERN,
        max_length=64,
        description="Tenant of the request, set by the gateway from the caller's API key; "
        "one tenant never sees another's data.",
    ),
]
"""Use as ``tenant: Tenant = DEFAULT_TENANT`` in a route's parameters."""

OptionalTenant = Annotated[
    str | None,
    Header(alias=TENANT_HEADER, pattern=TENANT_PATTERN, max_length=64),
]
"""The header when a route must tell its absence apart (``= None``)."""

__all__ = ["DEFAULT_TENANT", "TENANT_HEADER", "TENANT_PATTERN", "OptionalTenant", "Tenant"]
