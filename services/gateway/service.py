"""The gateway's definition."""

from typing import Any

from faststream import AckPolicy
from faststream.nats import JStream, NatsRouter, PullSub

from contracts.events import ApiKeyRevoked
from contracts.queries import AuthenticateQuery, AuthenticateReply
from libs.messaging import broadcast_subscriber, query_subscriber
from libs.runtime import ServiceContext, ServiceDefinition
from services.gateway.api import build_api
from services.gateway.keystore import key_store_of
from services.gateway.settings import GatewaySettings
from services.gateway.webhook_targets import WebhookTargets
from services.gateway.webhooks import WEBHOOK_CONCERNS, Webhooks, WebhookSender


def build_router(context: ServiceContext) -> NatsRouter:
    """The gateway answers who an API key belongs to (for the router's direct callers) and
    forgets a key another replica revoked."""
    router = NatsRouter()
    keys = key_store_of(context)

    @broadcast_subscriber(router, context.bus.subjects, "gateway", ApiKeyRevoked)
    async def forget_revoked(event: ApiKeyRevoked) -> None:
        keys.forget(event.key_id)

    @query_subscriber(router, context.bus.subjects, "gateway", "authenticate")
    async def authenticate(query: AuthenticateQuery) -> AuthenticateReply:
        caller = await keys.authenticate(query.key)
        if caller is None:
            return AuthenticateReply(valid=False)
        return AuthenticateReply(
            valid=True, key_id=caller.key_id, tenant=caller.tenant, scopes=list(caller.scopes)
        )

    add_webhook_consumers(router, context)
    return router


def add_webhook_consumers(router: NatsRouter, context: ServiceContext) -> None:
    """Durable consumers turning events into webhook deliveries, and the sender loop."""
    webhooks = Webhooks(context.database)
    settings = context.settings
    assert isinstance(settings, GatewaySettings)
    sender = WebhookSender(context.database, WebhookTargets(settings.allowed_webhook_targets()))
    subjects = context.bus.subjects

    async def enqueue(event: dict[str, Any]) -> None:
        await webhooks.enqueue(event)

    for concern in WEBHOOK_CONCERNS:
        router.subscriber(
            subjects.events_filter(concern),
            stream=JStream(subjects.events_stream(concern), declare=False),
            durable=subjects.consumer_name("gateway", f"webhooks.{concern}"),
            pull_sub=PullSub(batch_size=16, timeout=5.0),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=f"gateway:webhooks:{concern}",
        )(enqueue)

    async def start() -> None:
        sender.start()

    context.startup_hooks.append(start)
    context.shutdown_hooks.append(sender.stop)


DEFINITION = ServiceDefinition(
    name="gateway",
    settings=GatewaySettings,
    build_router=build_router,
    build_api=build_api,
    emits=(ApiKeyRevoked,),
)

__all__ = ["DEFINITION"]
