"""The broker every service uses, and typed publishing of events, commands and queries."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import nats.errors
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from faststream.nats.schemas import PubAck
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from contracts.envelope import Command, Event, Message, Query
from libs.messaging import headers as h
from libs.messaging.deadletter import DeadLetters
from libs.messaging.subjects import Subjects

R = TypeVar("R", bound=BaseModel)
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


class HandlerDecorator(Protocol):
    """Registers an async handler and gives it back unchanged."""

    def __call__(self, handler: Handler, /) -> Handler: ...


PULL_BATCH = 16
PULL_TIMEOUT_SECONDS = 5.0
logger = logging.getLogger("tuneloop.messaging")


def create_broker(
    url: str | list[str],
    subjects: Subjects,
    *,
    max_attempts: int,
    tracer_provider: Any = None,
    metrics: CollectorRegistry | None = None,
    service: str = "tuneloop",
) -> NatsBroker:
    """A broker with dead-lettering, tracing through NATS headers and Prometheus metrics."""
    from faststream.nats.opentelemetry import NatsTelemetryMiddleware
    from faststream.nats.prometheus import NatsPrometheusMiddleware

    middlewares: list[Any] = [DeadLetters(subjects, max_attempts)]
    if tracer_provider is not None:
        middlewares.append(NatsTelemetryMiddleware(tracer_provider=tracer_provider))
    if metrics is not None:
        middlewares.append(NatsPrometheusMiddleware(registry=metrics, app_name=service))
    return NatsBroker(
        url,
        middlewares=middlewares,
        name=f"tuneloop-{service}",
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        logger=None,
    )


async def stop_broker(broker: NatsBroker) -> None:
    """Stop ``broker``: its subscriptions drain, then its connection closes. If the drain
    fails (the server stops answering), the connection is closed anyway, so none of its
    tasks or sockets outlive the broker; messages not acknowledged are redelivered."""
    connection = getattr(broker, "_connection", None)
    try:
        await broker.stop()
    except (nats.errors.Error, TimeoutError) as error:
        logger.warning(
            "the NATS connection did not drain (%s); closing it: messages not acknowledged "
            "are delivered again",
            type(error).__name__,
        )
        if connection is not None and not connection.is_closed:
            await connection.close()


def message_headers(message: Message) -> dict[str, str]:
    return {h.MSG_ID: message.id, h.MESSAGE_TYPE: message.type}


PUBLISH_TIMEOUT_SECONDS = 5.0
"""How long a publish waits for JetStream's acknowledgement (a loaded server can take longer
than NATS's half-second default; the de-duplication id makes a retried publish safe)."""


class Bus:
    """Publish events and commands with de-duplication ids; ask queries."""

    def __init__(self, broker: NatsBroker, subjects: Subjects) -> None:
        self.broker = broker
        self.subjects = subjects

    async def publish_event(self, event: Event) -> PubAck:
        """Publish an event and wait for JetStream to store it."""
        ack: PubAck = await self.broker.publish(
            event,
            self.subjects.event(type(event)),
            headers=message_headers(event),
            stream=self.subjects.stream_of_event(type(event)),
            timeout=PUBLISH_TIMEOUT_SECONDS,
        )
        return ack

    async def send_command(self, command: Command) -> PubAck:
        """Queue a command on its owner's work queue."""
        ack: PubAck = await self.broker.publish(
            command,
            self.subjects.command(type(command)),
            headers=message_headers(command),
            stream=self.subjects.stream_of_command(type(command)),
            timeout=PUBLISH_TIMEOUT_SECONDS,
        )
        return ack

    async def ask(
        self, query: Query, service: str, name: str, reply: type[R], timeout: float = 2.0
    ) -> R:
        """Send a query to one service and parse its reply."""
        response = await self.broker.request(
            query,
            self.subjects.query(service, name),
            timeout=timeout,
            headers=message_headers(query),
        )
        return reply.model_validate_json(response.body)


def event_subscriber(
    router: NatsRouter, subjects: Subjects, service: str, event: type[Event], **options: Any
) -> HandlerDecorator:
    """Decorator: a durable pull consumer of ``service`` for one event type.

    Replicas of the service share the consumer, so each event is handled by one of them.
    """
    decorator: HandlerDecorator = router.subscriber(
        subjects.event(event),
        stream=JStream(subjects.stream_of_event(event), declare=False),
        durable=subjects.consumer_name(service, event.message_type()),
        pull_sub=PullSub(batch_size=PULL_BATCH, timeout=PULL_TIMEOUT_SECONDS),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{service}:{event.message_type()}",
        **options,
    )
    return decorator


def command_subscriber(
    router: NatsRouter, subjects: Subjects, command: type[Command], **options: Any
) -> HandlerDecorator:
    """Decorator: the owning service's work-queue consumer for one command type."""
    decorator: HandlerDecorator = router.subscriber(
        subjects.command(command),
        stream=JStream(subjects.stream_of_command(command), declare=False),
        durable=subjects.consumer_name(command.SERVICE, command.message_type()),
        pull_sub=PullSub(batch_size=PULL_BATCH, timeout=PULL_TIMEOUT_SECONDS),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{command.SERVICE}:{command.message_type()}",
        **options,
    )
    return decorator


def query_subscriber(
    router: NatsRouter, subjects: Subjects, service: str, name: str, **options: Any
) -> HandlerDecorator:
    """Decorator: a request-reply responder on a subject outside every stream."""
    decorator: HandlerDecorator = router.subscriber(
        subjects.query(service, name), title=f"{service}:query:{name}", **options
    )
    return decorator


def broadcast_subscriber(
    router: NatsRouter, subjects: Subjects, service: str, event: type[Event], **options: Any
) -> HandlerDecorator:
    """Decorator: every replica of ``service`` receives each ``event`` published from now on.

    For state a replica keeps in memory (e.g. caches to drop): a plain subscription on the
    event's subject, outside any consumer, so there is no replay and no sharing between
    replicas. What must not be missed still needs a durable :func:`event_subscriber`.
    """
    decorator: HandlerDecorator = router.subscriber(
        subjects.event(event), title=f"{service}:broadcast:{event.message_type()}", **options
    )
    return decorator


def event_publisher(router: NatsRouter, subjects: Subjects, event: type[Event]) -> Any:
    """Declare that a service emits ``event`` (so the AsyncAPI spec documents it)."""
    return router.publisher(
        subjects.event(event),
        schema=event,
        stream=JStream(subjects.stream_of_event(event), declare=False),
        title=f"{event.message_type()}",
    )


__all__ = [
    "Bus",
    "broadcast_subscriber",
    "command_subscriber",
    "create_broker",
    "event_publisher",
    "event_subscriber",
    "message_headers",
    "query_subscriber",
]
