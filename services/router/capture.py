"""Payload capture for the flywheel: opted-in tenants' chat requests and answers, redacted.

The request path only queues what it served (never blocks, never parses); a background task
redacts the texts and publishes ``inference.captured`` for the exporter to store.
"""

import asyncio
import importlib
import json
import logging
import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from contracts.events import InteractionCaptured
from libs.background import BackgroundLoop
from libs.messaging import Bus

logger = logging.getLogger("tuneloop.router.capture")

QUEUE_LIMIT = 10_000
RETRY_SECONDS = 0.5
Redactor = Callable[[str], str]

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w(+])[+(]?\d[\d ().-]{7,}\d(?![\w])")


def builtin_redaction(text: str) -> str:
    """E-mail addresses and phone numbers replaced by placeholders."""
    return PHONE.sub("[phone]", EMAIL.sub("[email]", text))


def load_redactor(spec: str) -> Redactor | None:
    """``builtin``, ``none`` or ``package.module:function``; a bad path fails at start-up."""
    if spec == "none":
        return None
    if spec == "builtin":
        return builtin_redaction
    module_name, _, attribute = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(
            f"TUNELOOP_ROUTER_CAPTURE_REDACTOR={spec!r} cannot be loaded ({exc}); give "
            "`package.module:function` importable by the router, `builtin` or `none`"
        ) from None
    if not callable(function):
        raise ValueError(f"TUNELOOP_ROUTER_CAPTURE_REDACTOR={spec!r} is not callable")
    return function  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CapturedRequest:
    """What the request path hands over: the raw request messages and answer body."""

    tenant: str
    request_id: str
    requested_model: str
    serving_name: str
    experiment_id: str | None
    variant: str | None
    messages: list[Any]
    answer_body: bytes


def answer_text(body: bytes) -> str | None:
    """The assistant's text of an OpenAI chat completion body, if it has one."""
    try:
        document = json.loads(body)
        content = document["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def redact_message(message: Any, redactor: Redactor | None) -> dict[str, Any] | None:
    if not isinstance(message, dict) or not isinstance(message.get("content"), str):
        return None
    content = message["content"] if redactor is None else redactor(message["content"])
    return {"role": str(message.get("role")), "content": content}


def captured_event(
    served: CapturedRequest, redactor: Redactor | None
) -> InteractionCaptured | None:
    """The event for one served request; ``None`` when there is no text conversation."""
    text = answer_text(served.answer_body)
    messages = [redact_message(m, redactor) for m in served.messages]
    if text is None or not messages or any(m is None for m in messages):
        return None
    answer = text if redactor is None else redactor(text)
    return InteractionCaptured(
        tenant=served.tenant,
        request_id=served.request_id,
        requested_model=served.requested_model,
        serving_name=served.serving_name,
        experiment_id=served.experiment_id,
        variant=served.variant,
        messages=[
            *(m for m in messages if m is not None),
            {"role": "assistant", "content": answer},
        ],
        redacted=redactor is not None,
    )


class PayloadCapture:
    def __init__(self, bus: Bus, tenants: frozenset[str], redactor: Redactor | None) -> None:
        self.bus = bus
        self.tenants = tenants
        self.redactor = redactor
        self.queue: asyncio.Queue[CapturedRequest] = asyncio.Queue(QUEUE_LIMIT)
        self.dropped = 0
        self._loop = BackgroundLoop("payload-capture", self._publish_next, RETRY_SECONDS)

    def wants(self, tenant: str) -> bool:
        return "*" in self.tenants or tenant in self.tenants

    def capture(self, served: CapturedRequest) -> None:
        """Never blocks the request: a full queue drops the capture and counts it."""
        try:
            self.queue.put_nowait(served)
        except asyncio.QueueFull:
            self.dropped += 1

    async def _publish_next(self) -> bool:
        served = await self.queue.get()
        try:
            event = captured_event(served, self.redactor)
        except Exception:
            logger.exception("redaction failed; request %s not captured", served.request_id)
            return True
        if event is None:
            return True
        while not self._loop.stopping:
            try:
                await self.bus.publish_event(event)
                break
            except Exception as exc:
                logger.warning("captured payload not stored yet (%s); retrying", exc)
                await asyncio.sleep(RETRY_SECONDS)
        return True

    def start(self) -> None:
        if self.tenants:
            self._loop.start()

    async def stop(self, timeout: float = 10.0) -> None:
        with suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self.queue.empty():
                    await asyncio.sleep(0.02)
        await self._loop.stop()


__all__ = [
    "CapturedRequest",
    "PayloadCapture",
    "builtin_redaction",
    "captured_event",
    "load_redactor",
]
