"""The gateway's definition."""

from faststream.nats import NatsRouter

from contracts.queries import AuthenticateQuery, AuthenticateReply
from libs.messaging import query_subscriber
from libs.runtime import ServiceContext, ServiceDefinition
from services.gateway.api import build_api
from services.gateway.keystore import KeyStore
from services.gateway.settings import GatewaySettings


def build_router(context: ServiceContext) -> NatsRouter:
    """The gateway answers who an API key belongs to (for the router's direct callers)."""
    router = NatsRouter()
    keys = KeyStore(context.database)

    @query_subscriber(router, context.bus.subjects, "gateway", "authenticate")
    async def authenticate(query: AuthenticateQuery) -> AuthenticateReply:
        caller = await keys.authenticate(query.key)
        if caller is None:
            return AuthenticateReply(valid=False)
        return AuthenticateReply(
            valid=True, key_id=caller.key_id, tenant=caller.tenant, scopes=list(caller.scopes)
        )

    return router


DEFINITION = ServiceDefinition(
    name="gateway",
    settings=GatewaySettings,
    build_router=build_router,
    build_api=build_api,
)

__all__ = ["DEFINITION"]
