"""Send a completion request to an upstream; retry connection failures only.

Local upstreams are reached with the lean keep-alive client of :mod:`upstream_http`; a hosted
model's remote endpoint through httpx (TLS, proxies, its key as a default header). Both are
seen here as an :class:`Exchange`.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from services.router.upstream_http import UpstreamBroken, UpstreamUnreachable
from services.router.upstreams import Upstream

BACKOFF_SECONDS = 0.1
RETRYABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError)
"""httpx failures before the upstream accepted the request (a closed keep-alive one too)."""
PASSED_HEADERS = (b"content-type", b"x-request-id")


class UpstreamDown(Exception):
    pass


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    """The upstream's headers that reach the client (``content-type``, ``x-request-id``)."""
    body: bytes = b""
    usage: Usage | None = None
    """A stream's usage, noted as it passes; a whole body's is read off the request path."""
    chunks: AsyncIterator[bytes] | None = None
    first_token_ms: float | None = None
    abort: Callable[[], None] | None = None
    """Drop the upstream connection of a stream whose client left."""

    def final_usage(self) -> Usage:
        if self.usage is None:
            try:
                self.usage = usage_of(json.loads(self.body))
            except ValueError:
                self.usage = Usage()
        return self.usage


class Exchange(Protocol):
    """An upstream's answer whose head has arrived."""

    status: int
    raw_headers: list[tuple[bytes, bytes]]

    async def read(self) -> bytes: ...

    def iter_bytes(self) -> AsyncIterator[bytes]: ...

    def abort(self) -> None: ...


class HttpxExchange:
    """An httpx streamed response seen as an :class:`Exchange` (the remote upstream)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        self.raw_headers = [(k.lower(), v) for k, v in response.headers.raw]

    async def read(self) -> bytes:
        try:
            return await self.response.aread()
        except httpx.TransportError as exc:
            raise UpstreamBroken(f"{type(exc).__name__}: {exc}", answered=True) from exc
        finally:
            await self.response.aclose()

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_raw():
                yield chunk
        except httpx.TransportError as exc:
            raise UpstreamBroken(f"{type(exc).__name__}: {exc}", answered=True) from exc
        finally:
            await self.response.aclose()

    def abort(self) -> None:
        asyncio.get_running_loop().create_task(self.response.aclose())


def usage_of(document: Any) -> Usage:
    usage = document.get("usage") if isinstance(document, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    return Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))


async def _open_once(upstream: Upstream, path: str, body: bytes) -> Exchange:
    if upstream.http is not None:
        return await upstream.http.post(path, body)
    request = upstream.client.build_request(
        "POST",
        f"{upstream.base_url}{path}",
        content=body,
        headers={"content-type": "application/json"},
    )
    try:
        return HttpxExchange(await upstream.client.send(request, stream=True))
    except RETRYABLE as exc:
        raise UpstreamUnreachable(f"{type(exc).__name__}: {exc}") from exc
    except httpx.TransportError as exc:
        raise UpstreamBroken(f"{type(exc).__name__}: {exc}") from exc


async def send(upstream: Upstream, path: str, body: bytes, retries: int) -> Exchange:
    """Open the answer; failures before the upstream took the request are retried."""
    for attempt in range(retries + 1):
        try:
            return await _open_once(upstream, path, body)
        except (UpstreamUnreachable, UpstreamBroken) as exc:
            if isinstance(exc, UpstreamBroken) and exc.answered:
                raise
            if attempt == retries:
                raise UpstreamDown(f"{upstream.base_url} is unreachable: {exc}") from exc
            await asyncio.sleep(BACKOFF_SECONDS * 2**attempt)
    raise AssertionError("unreachable")


def passed_headers(exchange: Exchange) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, value in exchange.raw_headers if name in PASSED_HEADERS]


async def complete(upstream: Upstream, path: str, body: bytes, retries: int) -> Answer:
    exchange = await send(upstream, path, body, retries)
    content = await exchange.read()
    return Answer(exchange.status, passed_headers(exchange), content)


async def stream(
    upstream: Upstream, path: str, body: bytes, retries: int, wants_usage: bool
) -> Answer:
    """Pass server-sent events through as they come, noting the first token and the usage.

    ``body`` already asks for the usage chunk; it is dropped again unless ``wants_usage``.
    """
    started = time.perf_counter()
    exchange = await send(upstream, path, body, retries)
    answer = Answer(exchange.status, passed_headers(exchange))
    if exchange.status != 200:
        answer.body = await exchange.read()
        return answer

    async def events() -> AsyncIterator[bytes]:
        buffer = b""
        async for chunk in exchange.iter_bytes():
            buffer = buffer + chunk if buffer else chunk
            if b"\n\n" not in buffer:
                continue
            complete_part, _, buffer = buffer.rpartition(b"\n\n")
            if answer.first_token_ms is None:
                answer.first_token_ms = (time.perf_counter() - started) * 1000
            if b'"usage"' in complete_part:
                kept = [
                    e for e in complete_part.split(b"\n\n") if keep_event(e, answer, wants_usage)
                ]
                complete_part = b"\n\n".join(kept)
                if not kept:
                    continue
            yield complete_part + b"\n\n"
        if buffer:
            yield buffer

    answer.chunks = events()
    answer.abort = exchange.abort
    return answer


def keep_event(event: bytes, answer: Answer, wants_usage: bool) -> bool:
    """Record usage from the final chunk; drop that chunk if the client did not ask for it."""
    if not event.startswith(b"data: ") or event == b"data: [DONE]":
        return True
    try:
        document = json.loads(event[6:])
    except ValueError:
        return True
    if isinstance(document, dict) and document.get("usage"):
        answer.usage = usage_of(document)
        return wants_usage or bool(document.get("choices"))
    return True


__all__ = ["Answer", "UpstreamDown", "Usage", "complete", "stream"]
