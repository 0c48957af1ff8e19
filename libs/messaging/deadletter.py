"""Bounded redelivery, then a dead-letter stream that can be listed and replayed.

A JetStream message whose body does not match its contract, or whose handler raises
:class:`PermanentError`, is dead-lettered at once; one whose handler raises anything else is
delivered again with back-off until ``max_attempts``, then dead-lettered.
Either way the consumer acknowledges it and goes on: one bad message never blocks the rest.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from faststream import BaseMiddleware, ContextRepo, StreamMessage
from faststream.nats import NatsMessage
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from libs.messaging import headers as h
from libs.messaging.errors import PermanentError
from libs.messaging.retry import redelivery_delay
from libs.messaging.subjects import Subjects

logger = logging.getLogger("tuneloop.messaging.deadletter")

Reason = Literal["invalid", "rejected", "failed"]


def _jetstream_metadata(raw: Any) -> Msg.Metadata | None:
    """Delivery metadata of a JetStream message; ``None`` for core NATS messages."""
    if not isinstance(raw, Msg) or not raw.reply or not raw.reply.startswith("$JS.ACK."):
        return None
    try:
        return raw.metadata
    except NatsError:
        return None


def describe_validation_error(exc: ValidationError) -> str:
    """``field: problem`` for each error, e.g. ``job_id: Field required``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'][1:] or err['loc'])}: {err['msg']}"
        for err in exc.errors()
    )


class DeadLetters:
    """Middleware factory: pass an instance in a broker's ``middlewares``."""

    def __init__(self, subjects: Subjects, max_attempts: int) -> None:
        self.subjects = subjects
        self.max_attempts = max_attempts

    def __call__(self, msg: Any, /, *, context: ContextRepo) -> "DeadLetterMiddleware":
        return DeadLetterMiddleware(msg, context=context, policy=self)


class DeadLetterMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: ContextRepo, policy: DeadLetters) -> None:
        super().__init__(msg, context=context)
        self.policy = policy

    async def consume_scope(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        metadata = _jetstream_metadata(msg.raw_message)
        if metadata is None:
            return await call_next(msg)
        try:
            return await call_next(msg)
        except ValidationError as exc:
            await self._dead_letter(msg, metadata, "invalid", describe_validation_error(exc))
        except PermanentError as exc:
            await self._dead_letter(msg, metadata, "rejected", str(exc))
        except Exception as exc:
            attempt = metadata.num_delivered or 1
            error = f"{type(exc).__name__}: {exc}"
            if attempt >= self.policy.max_attempts:
                logger.exception("giving up after %d attempts", attempt)
                await self._dead_letter(msg, metadata, "failed", error)
            else:
                delay = redelivery_delay(attempt)
                logger.warning(
                    "attempt %d/%d failed (%s); retrying in %.1fs",
                    attempt,
                    self.policy.max_attempts,
                    error,
                    delay,
                )
                await cast(NatsMessage, msg).nack(delay=delay)
        return None

    async def _dead_letter(
        self, msg: StreamMessage[Any], metadata: Msg.Metadata, reason: Reason, error: str
    ) -> None:
        raw: Msg = msg.raw_message
        consumer = metadata.consumer or "unknown"
        original_headers = h.application_headers(raw.headers or {})
        sequence = metadata.sequence.stream if metadata.sequence else 0
        dead_headers = {
            **original_headers,
            h.MSG_ID: f"{metadata.stream}:{sequence}:{consumer}",
            h.ORIGINAL_SUBJECT: raw.subject,
            h.ORIGINAL_STREAM: metadata.stream or "",
            h.ORIGINAL_SEQUENCE: str(sequence),
            h.CONSUMER: consumer,
            h.REASON: reason,
            h.ERROR: h.header_safe(error),
            h.ATTEMPTS: str(metadata.num_delivered or 1),
        }
        logger.error(
            "dead-lettering %s from %s (%s): %s",
            raw.subject,
            consumer,
            reason,
            h.header_safe(error, 300),
        )
        broker = self.context.get("broker")
        await broker.publish(
            raw.data,
            self.policy.subjects.deadletter(consumer),
            headers=dead_headers,
            stream=self.policy.subjects.deadletter_stream(),
        )
        await msg.ack()


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message, as listed by ``tuneloop deadletters``."""

    sequence: int
    time: datetime | None
    consumer: str
    original_subject: str
    reason: str
    error: str
    attempts: int
    data: bytes
    headers: dict[str, str]


async def list_dead_letters(
    nc: NatsClient, subjects: Subjects, consumer: str | None = None, limit: int = 1000
) -> list[DeadLetter]:
    """Dead letters in order, optionally of one consumer."""
    js = nc.jetstream()
    info = await js.stream_info(subjects.deadletter_stream())
    found: list[DeadLetter] = []
    sequence = info.state.first_seq
    while sequence and sequence <= info.state.last_seq and len(found) < limit:
        try:
            raw = await js.get_msg(
                subjects.deadletter_stream(),
                seq=sequence,
                next=True,
                subject=subjects.deadletter(consumer) if consumer else None,
            )
        except NotFoundError:
            break
        assert raw.seq is not None
        found.append(_as_dead_letter(raw.seq, raw.time, raw.data or b"", raw.headers or {}))
        sequence = raw.seq + 1
    return found


def _as_dead_letter(
    sequence: int, time: datetime | None, data: bytes, headers: dict[str, str]
) -> DeadLetter:
    return DeadLetter(
        sequence=sequence,
        time=time,
        consumer=headers.get(h.CONSUMER, ""),
        original_subject=headers.get(h.ORIGINAL_SUBJECT, ""),
        reason=headers.get(h.REASON, ""),
        error=headers.get(h.ERROR, ""),
        attempts=int(headers.get(h.ATTEMPTS, "0") or 0),
        data=data,
        headers=headers,
    )


async def replay_dead_letter(nc: NatsClient, subjects: Subjects, letter: DeadLetter) -> None:
    """Publish the message again to its original subject, then drop it from the dead letters.

    The replay gets a new ``Nats-Msg-Id`` so JetStream does not drop it as a duplicate; the
    envelope id in the body is unchanged, so idempotent handlers still apply it only once.
    """
    js = nc.jetstream()
    replay_headers = h.application_headers(letter.headers)
    original_id = replay_headers.get(h.MSG_ID, letter.original_subject)
    replay_headers[h.MSG_ID] = f"{original_id}:replay:{letter.sequence}"
    original_stream = letter.headers.get(h.ORIGINAL_STREAM) or None
    await js.publish(
        letter.original_subject, letter.data, headers=replay_headers, stream=original_stream
    )
    await js.delete_msg(subjects.deadletter_stream(), letter.sequence)


__all__ = [
    "DeadLetter",
    "DeadLetterMiddleware",
    "DeadLetters",
    "describe_validation_error",
    "list_dead_letters",
    "replay_dead_letter",
]
