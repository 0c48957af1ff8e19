"""The front door: ``/v1/...`` requests forwarded to the service that owns the path."""

from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from contracts.api.errors import ErrorBody, ErrorInfo
from services.gateway.directory import ServiceDirectory, ServiceUnavailable

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
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def owner_of(path: str) -> str | None:
    """The service owning ``path`` (longest matching prefix), or ``None``."""
    matches = [prefix for prefix in ROUTES if path == prefix or path.startswith(prefix + "/")]
    return ROUTES[max(matches, key=len)] if matches else None


def error(status: int, code: str, message: str) -> JSONResponse:
    body = ErrorBody(error=ErrorInfo(code=code, message=message))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def forwarded_headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}


def proxy_routes(directory: ServiceDirectory, client: httpx.AsyncClient) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route("/v1/{rest:path}", methods=METHODS, response_model=None)
    async def forward(request: Request, rest: str) -> StreamingResponse | JSONResponse:
        service = owner_of(request.url.path)
        if service is None:
            return error(
                404,
                "not_found",
                f"no endpoint {request.url.path}; see /docs and contracts/openapi/ for the API",
            )
        try:
            base = await directory.url_of(service)
        except ServiceUnavailable as exc:
            return error(503, "service_unavailable", str(exc))
        upstream = client.build_request(
            request.method,
            base + request.url.path,
            params=request.query_params,
            headers=forwarded_headers(request),
            content=request.stream(),
        )
        try:
            response = await client.send(upstream, stream=True)
        except httpx.TransportError as exc:
            directory.forget(service)
            return error(
                503, "service_unavailable", str(ServiceUnavailable(service, type(exc).__name__))
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


__all__ = ["ROUTES", "owner_of", "proxy_routes"]
