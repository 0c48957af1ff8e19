"""The gateway's own routes: API keys and the audit log (admin scope), and the calling key
itself (any scope)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse, Response

from contracts.api.errors import ErrorBody
from contracts.api.keys import (
    AuditEntry,
    AuditLog,
    CallerKey,
    KeyCreate,
    KeyCreated,
    KeyList,
    KeyPublic,
)
from services.gateway.auth import Denied, Gatekeeper, error_response
from services.gateway.keystore import AuditLog as AuditStore
from services.gateway.keystore import Caller, KeyRequestError, KeyStore
from services.gateway.tables import GatewayApiKey

ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 404)}


def public(row: GatewayApiKey) -> KeyPublic:
    return KeyPublic(
        id=row.id,
        tenant=row.tenant,
        name=row.name,
        scopes=row.scopes.split(),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def admin_routes(
    gatekeeper: Gatekeeper, keys: KeyStore, audit: AuditStore, operator_tenant: str
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["keys"], responses=ERRORS)  # type: ignore[arg-type]

    async def admin(request: Request) -> Caller:
        return await gatekeeper.authorise(request)

    Admin = Annotated[Caller, Depends(admin)]  # noqa: N806

    def visible_tenant(caller: Caller) -> str | None:
        """Whose keys the caller manages: the operator tenant's admins manage every tenant's."""
        return None if caller.tenant == operator_tenant else caller.tenant

    @router.post("/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
    async def create_key(body: KeyCreate, caller: Admin) -> KeyCreated | JSONResponse:
        """Create a key; the response carries the full key, which is never shown again."""
        tenant = body.tenant or caller.tenant
        if tenant != caller.tenant and visible_tenant(caller) is not None:
            return error_response(
                "/v1/keys",
                403,
                "other_tenant",
                f"an admin of tenant {caller.tenant!r} creates keys for its own tenant only; "
                "leave `tenant` out",
            )
        try:
            created = await keys.create(tenant, body.name, body.scopes, created_by=caller.key_id)
        except KeyRequestError as exc:
            return error_response("/v1/keys", 400, "invalid_key_request", str(exc))
        await audit.record(caller.tenant, caller.key_id, "POST", "/v1/keys", 201)
        return KeyCreated(**public(created.row).model_dump(), key=created.token)

    @router.get("/keys", response_model=KeyList)
    async def list_keys(caller: Admin) -> KeyList:
        """Keys of the caller's tenant (every tenant's for the operator), never their secrets."""
        return KeyList(data=[public(row) for row in await keys.list(visible_tenant(caller))])

    @router.delete("/keys/{key_id}", status_code=204, response_class=Response)
    async def revoke_key(key_id: str, caller: Admin) -> Response:
        """Revoke a key at once; requests with it get 401 from then on."""
        row = await keys.revoke(key_id, visible_tenant(caller), actor=caller.key_id)
        path = f"/v1/keys/{key_id}"
        await audit.record(
            caller.tenant, caller.key_id, "DELETE", path, 404 if row is None else 204
        )
        if row is None:
            return error_response(
                "/v1/keys", 404, "key_not_found", f"no key {key_id!r}; list keys with GET /v1/keys"
            )
        return Response(status_code=204)

    @router.get("/me", response_model=CallerKey)
    async def me(caller: Admin) -> CallerKey:
        """The key making the request: its tenant, name and scopes (any key may read itself)."""
        row = await keys.get(caller.key_id)
        return CallerKey(
            id=caller.key_id,
            tenant=caller.tenant,
            name=row.name if row is not None else None,
            scopes=list(caller.scopes),
        )

    @router.get("/audit", response_model=AuditLog, tags=["audit"])
    async def audit_log(
        caller: Admin,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        before: Annotated[int | None, Query(ge=1)] = None,
    ) -> AuditLog:
        """Mutating requests of the caller's tenant, newest first; page on with `before`."""
        rows = await audit.entries(caller.tenant, limit + 1, before)
        return AuditLog(
            data=[AuditEntry.model_validate(r, from_attributes=True) for r in rows[:limit]],
            has_more=len(rows) > limit,
        )

    return router


async def denied_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Denied)
    return error_response(request.url.path, exc.status, exc.code, exc.message)


__all__ = ["admin_routes", "denied_handler"]
