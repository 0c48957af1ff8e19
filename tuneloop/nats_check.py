"""Reaching a NATS server and asking services for their health, from outside any service."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoServersError

from contracts.queries import HealthQuery, HealthReply
from libs.messaging import Subjects

CONNECT_TIMEOUT_SECONDS = 3.0


class NatsUnavailable(Exception):
    """The NATS server cannot be reached or has no JetStream; the message says what to do."""


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[Client]:
    """A short-lived connection that fails fast instead of retrying forever."""

    async def quiet(_: Exception) -> None:
        """Connection errors are reported once, below, not as tracebacks."""

    try:
        client = await asyncio.wait_for(
            nats.connect(
                url,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                max_reconnect_attempts=1,
                allow_reconnect=False,
                reconnect_time_wait=0.2,
                error_cb=quiet,
                name="tuneloop-cli",
            ),
            timeout=CONNECT_TIMEOUT_SECONDS * 2,
        )
    except (NoServersError, OSError, TimeoutError, NatsError) as exc:
        raise NatsUnavailable(
            f"cannot reach NATS at {url} ({type(exc).__name__}: {exc or 'no answer'}). "
            "Start that server, fix TUNELOOP_NATS_URL, or unset it to use the embedded one"
        ) from None
    try:
        yield client
    finally:
        await client.close()


async def require_jetstream(client: Client, url: str) -> None:
    try:
        await client.jetstream().account_info()
    except NatsError as exc:
        raise NatsUnavailable(
            f"NATS at {url} has no JetStream ({exc}); start it with -js"
        ) from None


async def ask_health(
    client: Client, subjects: Subjects, service: str, timeout: float = 1.0
) -> HealthReply | None:
    """A service's health reply, or ``None`` if it does not answer in time."""
    try:
        reply = await client.request(
            subjects.health(service), HealthQuery().model_dump_json().encode(), timeout=timeout
        )
    except (TimeoutError, NatsError):
        return None
    return HealthReply.model_validate_json(reply.data)


__all__ = ["NatsUnavailable", "ask_health", "connected", "require_jetstream"]
