"""The tenant of an HTTP request, as every service reads it.

The gateway authenticates the caller and forwards the key's tenant, key id and scopes in
``X-Tuneloop-*`` headers, signed with the internal secret the gateway and the services share
(it drops any such header a client sends); see :mod:`libs.tenancy.identity`. Services verify
the signature (a route takes ``tenant: Tenant``) and scope every query to the tenant: lists show
the tenant's rows only, another tenant's id is a 404 exactly like an unknown one, and creates
belong to the tenant (request bodies have no tenant field; one sent anyway is rejected as an
unknown field). A request without a valid signature gets 401, whoever sends it: reaching a
service's port is not enough to act as a tenant.
"""

from libs.tenancy.identity import (
    IDENTITY_HEADERS,
    MAX_AGE_SECONDS,
    MIN_SECRET_LENGTH,
    SIGNATURE_HEADER,
    TENANT_HEADER,
    TENANT_PATTERN,
    Identity,
    IdentityRejected,
    IdentitySigner,
)
from libs.tenancy.requests import (
    DEFAULT_TENANT,
    SignedAs,
    SignedIdentity,
    Tenant,
    carries_identity,
    protect,
    verified_body,
    verified_identity,
)

__all__ = [
    "DEFAULT_TENANT",
    "IDENTITY_HEADERS",
    "MAX_AGE_SECONDS",
    "MIN_SECRET_LENGTH",
    "SIGNATURE_HEADER",
    "TENANT_HEADER",
    "TENANT_PATTERN",
    "Identity",
    "IdentityRejected",
    "IdentitySigner",
    "SignedAs",
    "SignedIdentity",
    "Tenant",
    "carries_identity",
    "protect",
    "verified_body",
    "verified_identity",
]
