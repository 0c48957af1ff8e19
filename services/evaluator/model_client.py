"""Asking a model through any OpenAI-compatible endpoint (the router, vLLM, OpenAI)."""

import time
from dataclasses import dataclass

import httpx

from contracts.api.evaluations import ChatMessage


@dataclass(frozen=True)
class Answer:
    response: str | None
    error: str | None
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int


async def ask(
    client: httpx.AsyncClient, model: str, messages: list[ChatMessage], max_tokens: int
) -> Answer:
    """One chat completion at temperature 0; failures become an answer with an error."""
    body = {
        "model": model,
        "messages": [m.model_dump() for m in messages],
        "max_tokens": max_tokens,
        "temperature": 0,
    }
    started = time.perf_counter()
    try:
        reply = await client.post("chat/completions", json=body)
        latency_ms = 1000 * (time.perf_counter() - started)
        if reply.status_code != 200:
            return Answer(None, f"HTTP {reply.status_code}: {reply.text[:500]}", latency_ms, 0, 0)
        payload = reply.json()
        usage = payload.get("usage") or {}
        return Answer(
            response=payload["choices"][0]["message"]["content"] or "",
            error=None,
            latency_ms=latency_ms,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        latency_ms = 1000 * (time.perf_counter() - started)
        return Answer(None, f"{type(exc).__name__}: {exc}", latency_ms, 0, 0)


__all__ = ["Answer", "ask"]
