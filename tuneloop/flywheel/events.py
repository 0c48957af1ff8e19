"""What the flywheel watches on NATS: captured payloads, and services catching up on events."""

import asyncio
import json
import time
from dataclasses import dataclass

from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError

from contracts.envelope import Event
from contracts.events import InteractionCaptured
from libs.messaging import Subjects
from tuneloop.nats_check import connected


@dataclass(frozen=True)
class Bus:
    url: str
    subjects: Subjects

    async def captured(self, wanted: set[str], timeout: float) -> set[str]:
        """The ``wanted`` request ids whose payloads were captured (read from the stream)."""
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        async with connected(self.url) as client:
            subscription = await client.jetstream().subscribe(
                self.subjects.event(InteractionCaptured), ordered_consumer=True
            )
            while seen != wanted and time.monotonic() < deadline:
                try:
                    message = await subscription.next_msg(timeout=1.0)
                except NatsTimeout:
                    continue
                request_id = json.loads(message.data).get("request_id")
                if request_id in wanted:
                    seen.add(request_id)
            await subscription.unsubscribe()
        return seen

    async def wait_until_handled(self, service: str, event: type[Event], timeout: float) -> bool:
        """Whether ``service`` has handled every ``event`` published so far (in time)."""
        stream = self.subjects.stream_of_event(event)
        durable = self.subjects.consumer_name(service, event.message_type())
        deadline = time.monotonic() + timeout
        async with connected(self.url) as client:
            js = client.jetstream()
            while time.monotonic() < deadline:
                try:
                    info = await js.consumer_info(stream, durable)
                except NotFoundError:
                    info = None
                if info is not None and info.num_pending == 0 and info.num_ack_pending == 0:
                    return True
                await asyncio.sleep(0.25)
        return False


__all__ = ["Bus"]
