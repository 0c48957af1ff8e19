"""Send a completion request to an upstream; retry connection failures only."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.router.upstreams import Upstream

BACKOFF_SECONDS = 0.1
RETRYABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError)
"""Failures before the upstream accepted the request (a closed keep-alive connection too)."""


class UpstreamDown(Exception):
    pass


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    usage: Usage = field(default_factory=Usage)
    chunks: AsyncIterator[bytes] | None = None
    first_token_ms: float | None = None


def usage_of(document: Any) -> Usage:
    usage = document.get("usage") if isinstance(document, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    return Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))


async def send(
    upstream: Upstream,
    path: str,
    body: dict[str, Any],
    retries: int,
) -> httpx.Response:
    """Open a streamed response; connection failures are retried with back-off."""
    request = upstream.client.build_request("POST", f"{upstream.base_url}{path}", json=body)
    for attempt in range(retries + 1):
        try:
            return await upstream.client.send(request, stream=True)
        except RETRYABLE as exc:
            if attempt == retries:
                raise UpstreamDown(f"{upstream.base_url} is unreachable: {exc}") from exc
            await asyncio.sleep(BACKOFF_SECONDS * 2**attempt)
    raise AssertionError("unreachable")


async def complete(
    upstream: Upstream,
    path: str,
    body: dict[str, Any],
    retries: int,
) -> Answer:
    response = await send(upstream, path, body, retries)
    try:
        content = await response.aread()
    finally:
        await response.aclose()
    try:
        usage = usage_of(json.loads(content))
    except ValueError:
        usage = Usage()
    return Answer(response.status_code, dict(response.headers), content, usage)


async def stream(
    upstream: Upstream,
    path: str,
    body: dict[str, Any],
    retries: int,
) -> Answer:
    """Pass server-sent events through as they come, noting the first token and the usage."""
    wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    upstream_body = {
        **body,
        "stream_options": {**(body.get("stream_options") or {}), "include_usage": True},
    }
    started = time.perf_counter()
    response = await send(upstream, path, upstream_body, retries)
    answer = Answer(response.status_code, dict(response.headers))
    if response.status_code != 200:
        answer.body = await response.aread()
        await response.aclose()
        return answer

    async def events() -> AsyncIterator[bytes]:
        buffer = b""
        try:
            async for chunk in response.aiter_raw():
                buffer += chunk
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    if answer.first_token_ms is None:
                        answer.first_token_ms = (time.perf_counter() - started) * 1000
                    if keep_event(event, answer, wants_usage):
                        yield event + b"\n\n"
            if buffer:
                yield buffer
        finally:
            await response.aclose()

    answer.chunks = events()
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
