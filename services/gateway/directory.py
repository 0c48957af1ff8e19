"""Where each service serves HTTP, learnt from its health reply and cached briefly."""

import time
from dataclasses import dataclass

from services.gateway.health import AskHealth

CACHE_SECONDS = 10.0


class ServiceUnavailable(Exception):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(
            f"the {service} service is not reachable ({reason}); "
            "check `tuneloop health` and its log under .tuneloop/logs/"
        )
        self.service = service


@dataclass
class _Entry:
    url: str
    expires: float


class ServiceDirectory:
    def __init__(self, ask: AskHealth, timeout: float) -> None:
        self.ask = ask
        self.timeout = timeout
        self._entries: dict[str, _Entry] = {}

    async def url_of(self, service: str) -> str:
        entry = self._entries.get(service)
        if entry is not None and entry.expires > time.monotonic():
            return entry.url
        try:
            reply = await self.ask(service, self.timeout)
        except Exception as exc:
            raise ServiceUnavailable(service, type(exc).__name__) from None
        if reply.http_url is None:
            raise ServiceUnavailable(service, "it serves no HTTP API")
        self._entries[service] = _Entry(reply.http_url, time.monotonic() + CACHE_SECONDS)
        return reply.http_url

    def forget(self, service: str) -> None:
        """Ask again next time (after a connection error: it may have restarted elsewhere)."""
        self._entries.pop(service, None)


__all__ = ["ServiceDirectory", "ServiceUnavailable"]
