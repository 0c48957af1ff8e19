"""``POST /v1/chat/completions`` and ``/v1/completions`` as a plain ASGI endpoint.

This is the router's hot path, so it skips what a FastAPI route costs on every request
(middleware stack, dependency injection, request and response objects): it reads the three
headers it needs, checks the caller, reads the body once, and writes the upstream's answer
through. The FastAPI app hands these two paths to it before anything else runs (see
:class:`services.router.api.RouterApp`); the same routes are declared on the app too, which
documents them in the OpenAPI schema and serves them the same way if called there.

A request is traced only when traces are exported (``OTEL_TRACES_EXPORTER``).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.propagate import extract

from contracts.api.router import OpenAIError, OpenAIErrorInfo
from libs.config.settings import TelemetrySettings
from libs.tenancy import IDENTITY_HEADERS, IdentityRejected, IdentitySigner
from libs.tenancy.identity import check_body, claimed_body, target_of
from services.router.access import AccessDenied, KeyChecker, bearer_key
from services.router.budgets import refusal_message
from services.router.catalog import UnknownModel
from services.router.forwarding import UpstreamDown
from services.router.inference import BudgetRefused, InferenceService, Served
from services.router.request_body import BadRequest, parse_request
from services.router.upstream_http import UpstreamBroken
from services.router.upstreams import NoUpstream, UpstreamError

logger = logging.getLogger("tuneloop.router.completions")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATHS = frozenset({"/v1/chat/completions", "/v1/completions"})
IDENTITY_NAMES = frozenset(name.lower().encode("latin-1") for name in IDENTITY_HEADERS)
ACCESS_KINDS = {401: "authentication_error", 403: "permission_error"}


class ClientGone(Exception):
    """The client disconnected before its request was read."""


def error_body(message: str, kind: str, param: str | None = None, code: str | None = None) -> bytes:
    info = OpenAIErrorInfo(message=message, type=kind, param=param, code=code)
    return OpenAIError(error=info).model_dump_json().encode()


def tuneloop_headers(served: Served) -> list[tuple[bytes, bytes]]:
    target = served.target
    headers = [
        (b"x-tuneloop-request-id", served.request_id.encode()),
        (b"x-tuneloop-serving-name", target.serving_name.encode()),
    ]
    if target.variant is not None:
        headers.append((b"x-tuneloop-variant", target.variant.encode()))
        headers.append((b"x-tuneloop-experiment", (target.experiment_id or "").encode()))
    if served.fallback:
        headers.append((b"x-tuneloop-fallback", b"true"))
    return headers


def target_in(scope: Scope) -> str:
    """The path (as sent) and query of an ASGI request, as the gateway signed them."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope["path"])
    return target_of(path, bytes(scope.get("query_string", b"")).decode("latin-1"))


async def read_body(receive: Receive, limit: int, declared: bytes | None) -> bytes:
    """The whole request body; 413 as soon as it is known to be larger than ``limit``."""
    too_large = BadRequest(f"The request body is larger than {limit} bytes.", status=413)
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        body = message.get("body", b"")
        if body:
            parts.append(body)
            size += len(body)
            if size > limit:
                raise too_large
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


def failure(exc: Exception) -> tuple[int, bytes] | None:
    """The OpenAI-shaped answer to a request that failed with ``exc``, if it is known."""
    if isinstance(exc, BadRequest):
        return exc.status, error_body(exc.message, "invalid_request_error", exc.param)
    if isinstance(exc, IdentityRejected):
        return 401, error_body(exc.message, "authentication_error", code=exc.code)
    if isinstance(exc, AccessDenied):
        kind = ACCESS_KINDS.get(exc.status, "server_error")
        return exc.status, error_body(exc.message, kind, code=exc.code)
    if isinstance(exc, BudgetRefused):
        message = refusal_message(str(exc))
        return 429, error_body(message, "insufficient_quota", code="budget_exceeded")
    if isinstance(exc, UnknownModel):
        return 404, error_body(str(exc), "invalid_request_error", "model", "model_not_found")
    if isinstance(exc, UpstreamDown | NoUpstream | UpstreamError):
        return 503, error_body(str(exc), "server_error", code="upstream_unavailable")
    if isinstance(exc, UpstreamBroken | httpx.TransportError):
        message = f"the upstream failed: {type(exc).__name__}"
        return 502, error_body(message, "server_error", code="upstream_error")
    return None


async def send_whole(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, status: int, body: bytes) -> None:
    await send_whole(send, status, [(b"content-type", b"application/json")], body)


def tracing_exported() -> bool:
    settings = TelemetrySettings()
    return not settings.sdk_disabled and settings.traces_exporter != "none"


class CompletionsEndpoint:
    def __init__(
        self,
        service: InferenceService,
        checker: KeyChecker,
        max_bytes: int,
        max_tokens: int,
        traced: bool | None = None,
        signer: Callable[[], IdentitySigner | None] = lambda: None,
    ) -> None:
        self.service = service
        self.checker = checker
        self.signer = signer
        """The gateway's signature checker (set on the app when the service is assembled)."""
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        traced = tracing_exported() if traced is None else traced
        self.tracer = trace.get_tracer("tuneloop.router") if traced else None

    @staticmethod
    def route_of(scope: Scope) -> str | None:
        """The completion path ``scope`` asks for (under the app's root path), if any."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return path if path in PATHS else None

    async def serve(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request for ``path`` (one of :data:`PATHS`)."""
        if self.tracer is None:
            await self.handle(path, scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self.tracer.start_as_current_span(
            f"POST {path}",
            context=extract(carrier),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": "POST", "http.route": path},
        ):
            await self.handle(path, scope, receive, send)

    @staticmethod
    def signed(authorization: str | None, identity: dict[str, str]) -> bool:
        """Whether the request is to be taken by its signed identity (not an API key)."""
        key = bearer_key(authorization)
        return bool(identity) and not (key and key.startswith("tl_"))

    async def tenant_of(
        self, authorization: str | None, identity: dict[str, str], target: str
    ) -> str:
        """A direct caller's API key (whatever else it sends), else the identity the gateway
        signed (for this path and query); one that does not verify raises
        :class:`IdentityRejected`."""
        if self.signed(authorization, identity):
            signer = self.signer()
            if signer is None:
                raise IdentityRejected(
                    "no_internal_secret",
                    "this service cannot check who is calling: it has no internal secret; set "
                    "TUNELOOP_INTERNAL_SECRET to the gateway's (`tuneloop up` does it)",
                )
            return signer.verify(identity, "POST", target).tenant
        return await self.checker.tenant_of(authorization)

    async def handle(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        authorization = unit = declared = None
        identity: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = authorization or value.decode("latin-1")
            elif name in IDENTITY_NAMES:
                identity.setdefault(name.decode("latin-1"), value.decode("latin-1"))
            elif name == b"x-tuneloop-unit":
                unit = unit or value.decode("latin-1")
            elif name == b"content-length":
                declared = value
        try:
            tenant = await self.tenant_of(authorization, identity, target_in(scope))
            body = await read_body(receive, self.max_bytes, declared)
            if self.signed(authorization, identity):
                length = declared.decode("latin-1") if declared else None
                check_body(claimed_body(identity), body, length)
            request = parse_request(body, self.max_tokens)
            served = await self.service.serve(tenant, unit, path, request)
        except ClientGone:
            return
        except Exception as exc:
            answer = failure(exc)
            if answer is None:
                logger.exception("a completion request failed unexpectedly")
                answer = 500, error_body("the router failed; see its log", "server_error")
            await send_error(send, *answer)
            return
        headers = served.answer.headers + tuneloop_headers(served)
        if served.answer.chunks is None:
            self.service.finished(served.target)
            self.service.record(tenant, request.model, served)
            await send_whole(send, served.answer.status, headers, served.answer.body)
        else:
            await self.relay(served, tenant, request.model, headers, receive, send)

    async def relay(
        self,
        served: Served,
        tenant: str,
        requested: str,
        headers: list[tuple[bytes, bytes]],
        receive: Receive,
        send: Send,
    ) -> None:
        """Stream the upstream's events to the client as they come; if the client leaves,
        drop the upstream connection so it stops generating."""
        answer = served.answer
        assert answer.chunks is not None
        if not any(name == b"content-type" for name, _ in headers):
            headers.append((b"content-type", b"text/event-stream; charset=utf-8"))
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            if answer.abort is not None:
                answer.abort()

        watcher = asyncio.get_running_loop().create_task(watch())
        started = False
        try:
            # the head goes with the first event, as one burst: a client woken by the head
            # alone would only wait again for the event
            async for chunk in answer.chunks:
                if not started:
                    started = True
                    start = {"type": "http.response.start", "status": answer.status}
                    await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except UpstreamBroken as exc:
            if gone.is_set():
                return
            if not started:  # nothing sent yet: the client gets an error it can read
                answer.status = 502
                await send_error(send, *(failure(exc) or (502, b"")))
                return
            raise
        finally:
            watcher.cancel()
            self.service.finished(served.target)
            self.service.record(tenant, requested, served)
        if not started:  # an empty stream
            await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


__all__ = ["PATHS", "CompletionsEndpoint"]
