"""The front door: ``/v1/...`` requests checked (key, scope, size), then forwarded to the
service that owns the path with the caller's identity in ``X-Tuneloop-*`` headers, signed with
the internal secret (:mod:`libs.tenancy.identity`): services trust nothing else."""

import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Protocol

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from libs.tenancy import IdentitySigner
from libs.tenancy.identity import BODY_DIGEST_LIMIT, streamed_body
from libs.tenancy.requests import signed_target
from services.gateway.auth import Denied, Gatekeeper, error_response, identity_of
from services.gateway.directory import ServiceDirectory, ServiceUnavailable
from services.gateway.keystore import Caller

ROUTES: dict[str, str] = {
    "/v1/models": "router",
    "/v1/registry": "registry",
    "/v1/examples": "exporter",
    "/v1/datasets": "exporter",
    "/v1/fine_tuning": "trainer",
    "/v1/files": "trainer",
    "/v1/chat/completions": "router",
    "/v1/completions": "router",
    "/v1/feedback": "router",
    "/v1/experiments": "router",
    "/v1/evaluations": "evaluator",
    "/v1/costs": "cost",
    "/v1/budgets": "cost",
    "/v1/prices": "cost",
    "/v1/retraining": "retrainer",
}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
logger = logging.getLogger("tuneloop.gateway")
NOT_FORWARDED = {*HOP_BY_HOP, "authorization", "cookie"}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
NOT_AUDITED = ("/v1/chat/completions", "/v1/completions")
"""Inference is recorded by the router's ``inference.completed`` events instead."""


class Recorder(Protocol):
    def record(
        self, tenant: str, key_id: str | None, method: str, path: str, status: int
    ) -> Awaitable[None]: ...


@dataclass
class FrontDoor:
    gatekeeper: Gatekeeper
    audit: Recorder
    max_body_bytes: int
    signer: IdentitySigner | None
    """Signs the identity forwarded to services; without it nothing is forwarded (503)."""

    async def audited(self, request: Request, caller: Caller, status: int) -> None:
        path = request.url.path
        if request.method not in MUTATING or path in NOT_AUDITED:
            return
        try:
            await self.audit.record(caller.tenant, caller.key_id, request.method, path, status)
        except Exception:  # the service has acted already: answer, and say the entry is missing
            logger.exception(
                "audit entry not written", extra={"method": request.method, "path": path}
            )


class BodyTooLarge(Exception):
    pass


def owner_of(path: str) -> str | None:
    """The service owning ``path`` (longest matching prefix), or ``None``."""
    matches = [prefix for prefix in ROUTES if path == prefix or path.startswith(prefix + "/")]
    return ROUTES[max(matches, key=len)] if matches else None


def raw_path_of(request: Request) -> str:
    """The path as the client sent it, still percent-encoded (an id may hold '/' or '?')."""
    raw = request.scope.get("raw_path")
    return raw.decode("ascii", "replace") if isinstance(raw, bytes) else request.url.path


def forwarded_headers(request: Request) -> dict[str, str]:
    """The client's headers the service gets (the identity is signed onto the request later)."""
    return {
        k: v
        for k, v in request.headers.items()
        if k.lower() not in NOT_FORWARDED and not k.lower().startswith("x-tuneloop-")
    }


def sign(
    upstream: httpx.Request, caller: Caller, signer: IdentitySigner, body: str | bytes
) -> None:
    """Sign the caller's identity for this exact request: method, path and query as sent,
    and the body (or, for one streamed through, its length)."""
    identity = identity_of(caller)
    upstream.headers.update(
        signer.headers(identity, upstream.method, signed_target(upstream), body)
    )


async def body_to_forward(
    request: Request, limit: int
) -> tuple[bytes | AsyncIterator[bytes], str | bytes, dict[str, str]]:
    """The body to send on, what is signed of it, and the length header it goes with: bodies
    up to :data:`BODY_DIGEST_LIMIT` are read whole and hashed; longer ones (uploads) are
    streamed through, signed by their declared length (or ``unsigned`` without one)."""
    declared = request.headers.get("content-length", "")
    chunked = "transfer-encoding" in request.headers
    if (declared.isdigit() and int(declared) <= BODY_DIGEST_LIMIT) or (
        not declared and not chunked
    ):
        body = await request.body()
        return body, body, {}
    if declared.isdigit():
        return limited(request, limit), streamed_body(int(declared)), {"content-length": declared}
    return limited(request, limit), streamed_body(None), {}


async def limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        yield chunk


def too_large(path: str, limit: int) -> JSONResponse:
    return error_response(
        path,
        413,
        "request_too_large",
        f"the request body is larger than {limit} bytes; split the upload into smaller files",
    )


def declared_too_large(request: Request, limit: int) -> bool:
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


def proxy_routes(
    directory: ServiceDirectory, client: httpx.AsyncClient, front: FrontDoor
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route("/v1/{rest:path}", methods=METHODS, response_model=None)
    async def forward(request: Request, rest: str) -> StreamingResponse | JSONResponse:
        path = request.url.path
        try:
            caller = await front.gatekeeper.authorise(request)
        except Denied as denied:
            return error_response(path, denied.status, denied.code, denied.message)
        response = await send(request, caller)
        await front.audited(request, caller, response.status_code)
        return response

    async def send(request: Request, caller: Caller) -> StreamingResponse | JSONResponse:
        path = request.url.path
        service = owner_of(path)
        if service is None:
            return error_response(
                path, 404, "not_found", f"no endpoint {path}; see /docs for the API"
            )
        if declared_too_large(request, front.max_body_bytes):
            return too_large(path, front.max_body_bytes)
        if front.signer is None:
            return error_response(
                path,
                503,
                "no_internal_secret",
                "the gateway has no TUNELOOP_INTERNAL_SECRET to sign what it forwards; set the "
                "same secret on the gateway and every service (`tuneloop up` does it)",
            )
        try:
            base = await directory.url_of(service)
        except ServiceUnavailable as exc:
            return error_response(path, 503, "service_unavailable", str(exc))
        content, signed_body, length = await body_to_forward(request, front.max_body_bytes)
        upstream = client.build_request(
            request.method,
            base + raw_path_of(request),
            params=tuple(request.query_params.multi_items()),  # repeated parameters kept
            headers={**forwarded_headers(request), **length},
            content=content,
        )
        sign(upstream, caller, front.signer, signed_body)
        try:
            response = await client.send(upstream, stream=True)
        except BodyTooLarge:
            return too_large(path, front.max_body_bytes)
        except httpx.TransportError as exc:
            if isinstance(exc.__cause__, BodyTooLarge) or isinstance(exc.__context__, BodyTooLarge):
                return too_large(path, front.max_body_bytes)
            directory.forget(service)
            return error_response(
                path,
                503,
                "service_unavailable",
                str(ServiceUnavailable(service, type(exc).__name__)),
            )
        return StreamingResponse(
            body_of(response),
            status_code=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP},
            background=BackgroundTask(response.aclose),
        )

    return router


async def body_of(response: httpx.Response) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_raw():
        yield chunk


__all__ = ["ROUTES", "FrontDoor", "owner_of", "proxy_routes"]
