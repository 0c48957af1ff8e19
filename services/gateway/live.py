"""Live updates as server-sent events, read from JetStream with an ordered consumer.

Each SSE event's id is its JetStream stream sequence, so a client that reconnects with
``Last-Event-ID`` (browsers do it by themselves) gets every event after it, replayed from
the stream. Only the caller's tenant's events are sent.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from libs.messaging import Subjects

HEARTBEAT_SECONDS = 15.0
CONNECTED = b": connected\n\n"
Matches = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class Selection:
    """Which events one stream sends: of a concern (``job``), a tenant, and a predicate."""

    concern: str
    tenant: str
    matches: Matches


def sse(event: str, data: str, event_id: int | None = None) -> bytes:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


def start_sequence(last_event_id: str | None) -> int | None:
    """The first stream sequence to send after ``Last-Event-ID`` (``None``: new events only)."""
    if last_event_id is None or not last_event_id.strip().isdigit():
        return None
    return int(last_event_id.strip()) + 1


class LiveEvents:
    """One NATS connection per gateway process, opened on first use."""

    def __init__(self, nats_url: str, subjects: Subjects) -> None:
        self.nats_url = nats_url
        self.subjects = subjects
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None or self._client.is_closed:
                self._client = await nats.connect(
                    self.nats_url, name="tuneloop-gateway-live", max_reconnect_attempts=-1
                )
            return self._client

    async def close(self) -> None:
        if self._client is not None and not self._client.is_closed:
            await self._client.drain()

    async def stream(
        self,
        selection: Selection,
        start: int | None,
        greeting: bytes = CONNECTED,
        event_name: str | None = None,
    ) -> AsyncIterator[bytes]:
        """The selected events from ``start`` (``None``: new ones), after ``greeting`` (sent
        once the subscription is in place); each named by its type, or ``event_name``."""
        js = (await self.client()).jetstream()
        config = (
            ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
            if start is not None
            else ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        )
        subscription = await js.subscribe(
            self.subjects.events_filter(selection.concern),
            stream=self.subjects.events_stream(selection.concern),
            ordered_consumer=True,
            config=config,
        )
        try:
            yield greeting
            while True:
                try:
                    message = await subscription.next_msg(timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                sequence = message.metadata.sequence.stream
                chunk = self.render(message.data, sequence, selection, event_name)
                if chunk is not None:
                    yield chunk
        finally:
            await subscription.unsubscribe()

    @staticmethod
    def render(
        data: bytes, sequence: int, selection: Selection, event_name: str | None = None
    ) -> bytes | None:
        try:
            event = json.loads(data)
        except ValueError:
            return None
        if not isinstance(event, dict) or event.get("tenant") != selection.tenant:
            return None
        if not selection.matches(event):
            return None
        name = event_name or str(event.get("type", "message"))
        return sse(name, json.dumps(event), sequence)


__all__ = ["CONNECTED", "LiveEvents", "Matches", "Selection", "sse", "start_sequence"]
