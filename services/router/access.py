"""Who may call the router directly, and as which tenant.

- Through the gateway (or from another internal service) a request carries an identity the
  gateway signed (:mod:`libs.tenancy`): the key was checked there; an identity whose signature
  does not verify is a 401. The router's port belongs on the internal network all the same.
- A bearer key (``tl_...``) is checked with the gateway over NATS
  (``queries.gateway.authenticate``), remembered for a short time, and must have the
  ``infer`` scope (or ``admin``); its tenant is the request's, whatever headers say. Every
  replica forgets a key as soon as ``api_key.revoked`` is published; the time limit only
  bounds how long a replica that missed the event (disconnected from NATS) trusts it.
- Neither: refused when ``TUNELOOP_ROUTER_REQUIRE_KEY`` is on (``tuneloop up`` turns it on
  with the gateway's auth), else the ``default`` tenant (a router run on its own).
"""

import time
from collections.abc import Awaitable, Callable

from contracts.queries import AuthenticateReply
from libs.tenancy import DEFAULT_TENANT

AskGateway = Callable[[str], Awaitable[AuthenticateReply]]
CACHE_SECONDS = 30.0
INFER_SCOPES = {"infer", "admin"}


class AccessDenied(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class KeyChecker:
    def __init__(self, ask: AskGateway, require_key: bool) -> None:
        self.ask = ask
        self.require_key = require_key
        self._cache: dict[str, tuple[AuthenticateReply, float]] = {}

    async def reply_for(self, key: str) -> AuthenticateReply:
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            reply = await self.ask(key)
        except Exception:
            raise AccessDenied(
                503,
                "auth_unavailable",
                "the gateway did not answer whether this API key is valid; retry shortly",
            ) from None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (reply, time.monotonic() + CACHE_SECONDS)
        return reply

    def forget(self, key_id: str) -> None:
        """Drop every remembered answer for the key ``key_id`` (it was revoked)."""
        self._cache = {
            token: entry
            for token, entry in self._cache.items()
            if entry[0].key_id != key_id and key_id_of(token) != key_id
        }

    async def tenant_of(self, authorization: str | None) -> str:
        """The tenant a request without a signed identity acts for; raises
        :class:`AccessDenied`."""
        key = bearer_key(authorization)
        if key is not None and not key.startswith("tl_") and not self.require_key:
            key = None  # e.g. the placeholder an OpenAI SDK must send; no key is needed here
        if key is None:
            if self.require_key:
                raise AccessDenied(
                    401,
                    "missing_api_key",
                    "send an API key with the infer scope: `Authorization: Bearer tl_...`",
                )
            return DEFAULT_TENANT
        reply = await self.reply_for(key)
        if not reply.valid or reply.tenant is None:
            raise AccessDenied(
                401, "invalid_api_key", "the API key is not valid (unknown or revoked)"
            )
        if not INFER_SCOPES & set(reply.scopes):
            raise AccessDenied(
                403,
                "insufficient_scope",
                "this API key lacks the infer scope; ask an admin for a key with it",
            )
        return reply.tenant


def key_id_of(token: str) -> str | None:
    """The public id in a ``tl_<id>_<secret>`` key, if it has that shape."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    return key_id if prefix == "tl" and key_id and secret else None


def bearer_key(authorization: str | None) -> str | None:
    """The bearer token of an ``Authorization`` header, if any."""
    if not authorization:
        return None
    kind, _, token = authorization.partition(" ")
    token = token.strip()
    if kind.lower() != "bearer" or not token:
        return None
    return token


__all__ = ["AccessDenied", "AskGateway", "KeyChecker", "bearer_key", "key_id_of"]
