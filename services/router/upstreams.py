"""OpenAI-compatible upstreams that load LoRA adapters at run time (vLLM's API).

vLLM and the embedded engine speak the same API: ``POST /v1/load_lora_adapter`` with
``{"lora_name", "lora_path"}``, ``POST /v1/unload_lora_adapter`` with ``{"lora_name"}``, and
``GET /v1/models`` listing the base model and every loaded adapter.
"""

from dataclasses import dataclass, field

import httpx

from services.router.upstream_http import UpstreamHttp


class UpstreamError(Exception):
    """An upstream refused or failed; the message carries its own explanation."""


class NoUpstream(Exception):
    pass


def error_message(response: httpx.Response) -> str:
    """vLLM answers errors as ``{"error": {"message", ...}}``, sometimes as plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", body["error"]))
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return str(body)[:500]


@dataclass
class Upstream:
    base_url: str
    client: httpx.AsyncClient
    """Adapter management, and completions for a remote upstream."""
    http: UpstreamHttp | None = None
    """The lean keep-alive client completions take to a local upstream."""
    loaded: set[str] = field(default_factory=set)

    async def served_models(self) -> set[str]:
        response = await self.client.get(f"{self.base_url}/v1/models", timeout=10)
        response.raise_for_status()
        return {model["id"] for model in response.json().get("data", [])}

    async def load_adapter(self, name: str, path: str) -> None:
        """Load under an immutable name and return once the upstream lists it.

        Loading a name that is already there is not an error (vLLM answers 400 "has already
        been loaded"): the name is immutable, so what is there is what was asked for.
        """
        response = await self.client.post(
            f"{self.base_url}/v1/load_lora_adapter",
            json={"lora_name": name, "lora_path": path},
            timeout=120,
        )
        if response.status_code != 200:
            message = error_message(response)
            if not await self.serves(name):
                raise UpstreamError(f"{self.base_url} could not load {name}: {message}")
        elif not await self.serves(name):
            raise UpstreamError(
                f"{self.base_url} accepted {name} but does not list it in /v1/models"
            )
        self.loaded.add(name)

    async def serves(self, name: str) -> bool:
        return name in await self.served_models()

    async def unload_adapter(self, name: str) -> None:
        """Unload; a name the upstream does not have (vLLM: 404 NotFoundError) is gone already."""
        response = await self.client.post(
            f"{self.base_url}/v1/unload_lora_adapter", json={"lora_name": name}, timeout=30
        )
        if response.status_code not in (200, 404):
            raise UpstreamError(
                f"{self.base_url} could not unload {name}: {error_message(response)}"
            )
        self.loaded.discard(name)


class UpstreamPool:
    """The upstreams serving each base model (``*`` serves any)."""

    def __init__(self, mapping: dict[str, list[str]], client: httpx.AsyncClient) -> None:
        self.client = client
        self._by_url = {
            url: Upstream(url, client, UpstreamHttp(url))
            for urls in mapping.values()
            for url in urls
        }
        self._mapping = mapping

    def for_base_model(self, base_model: str) -> list[Upstream]:
        urls = self._mapping.get(base_model) or self._mapping.get("*") or []
        if not urls:
            raise NoUpstream(
                f"no upstream serves base model {base_model!r}; add it to TUNELOOP_ROUTER_UPSTREAMS"
            )
        return [self._by_url[url] for url in urls]

    def all(self) -> list[Upstream]:
        return list(self._by_url.values())

    def close(self) -> None:
        for upstream in self._by_url.values():
            if upstream.http is not None:
                upstream.http.close()


__all__ = ["NoUpstream", "Upstream", "UpstreamError", "UpstreamPool", "error_message"]
