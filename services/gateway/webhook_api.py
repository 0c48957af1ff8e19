"""Routes of webhooks (admin scope): create (the secret is shown once), list, delete, and
each webhook's recent deliveries."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse, Response

from contracts.api.errors import ErrorBody
from contracts.api.keys import (
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryList,
    WebhookDeliveryPublic,
    WebhookList,
    WebhookPublic,
)
from services.gateway.auth import Gatekeeper, error_response
from services.gateway.keystore import AuditLog, Caller
from services.gateway.tables import GatewayWebhook
from services.gateway.webhook_targets import TargetRefused, WebhookTargets
from services.gateway.webhooks import WebhookRequestError, Webhooks

ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 422)}


def public(row: GatewayWebhook) -> WebhookPublic:
    return WebhookPublic(
        id=row.id, url=row.url, event_types=row.event_types.split(), created_at=row.created_at
    )


def not_found(webhook_id: str) -> JSONResponse:
    return error_response(
        "/v1/webhooks",
        404,
        "webhook_not_found",
        f"no webhook {webhook_id!r}; list them with GET /v1/webhooks",
    )


def webhook_routes(
    gatekeeper: Gatekeeper, webhooks: Webhooks, audit: AuditLog, targets: WebhookTargets
) -> APIRouter:
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERRORS)  # type: ignore[arg-type]

    async def admin(request: Request) -> Caller:
        return await gatekeeper.authorise(request)

    Admin = Annotated[Caller, Depends(admin)]  # noqa: N806

    @router.post("", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
    async def create(body: WebhookCreate, caller: Admin) -> WebhookCreated | JSONResponse:
        """Send the tenant's events of these types to `url`, signed with the returned secret.
        `url` must be http(s) and reach a public address (422 otherwise, saying why)."""
        try:
            await targets.check(body.url)
        except TargetRefused as exc:
            return error_response("/v1/webhooks", 422, "webhook_url_not_allowed", str(exc))
        try:
            row = await webhooks.create(caller.tenant, body.url, body.event_types)
        except WebhookRequestError as exc:
            return error_response("/v1/webhooks", 400, "invalid_event_type", str(exc))
        await audit.record(caller.tenant, caller.key_id, "POST", "/v1/webhooks", 201)
        return WebhookCreated(**public(row).model_dump(), secret=row.secret)

    @router.get("", response_model=WebhookList)
    async def list_webhooks(caller: Admin) -> WebhookList:
        return WebhookList(data=[public(row) for row in await webhooks.active(caller.tenant)])

    @router.delete("/{webhook_id}", status_code=204, response_class=Response)
    async def delete(webhook_id: str, caller: Admin) -> Response:
        """Stop sending; deliveries still pending are dropped."""
        deleted = await webhooks.delete(caller.tenant, webhook_id)
        path = f"/v1/webhooks/{webhook_id}"
        await audit.record(caller.tenant, caller.key_id, "DELETE", path, 204 if deleted else 404)
        return Response(status_code=204) if deleted else not_found(webhook_id)

    @router.get("/{webhook_id}/deliveries", response_model=WebhookDeliveryList)
    async def deliveries(
        webhook_id: str, caller: Admin, limit: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> WebhookDeliveryList | JSONResponse:
        """The webhook's latest deliveries, newest first, with their attempts and errors."""
        if await webhooks.find(caller.tenant, webhook_id) is None:
            return not_found(webhook_id)
        rows = await webhooks.deliveries(webhook_id, limit)
        return WebhookDeliveryList(
            data=[WebhookDeliveryPublic.model_validate(r, from_attributes=True) for r in rows]
        )

    return router


__all__ = ["webhook_routes"]
