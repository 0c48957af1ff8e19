"""A small synchronous client of the gateway's ``/v1`` API."""

from pathlib import Path
from typing import IO, Any

import httpx

from tuneloop.client.errors import GatewayUnreachable, api_error_of
from tuneloop.client.settings import ClientConfig

USER_AGENT = "tuneloop-cli"


class ApiClient:
    """Sends the API key as ``Authorization: Bearer``; raises :class:`ApiError` on 4xx/5xx."""

    def __init__(self, config: ClientConfig, transport: httpx.BaseTransport | None = None):
        headers = {"User-Agent": USER_AGENT}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self.config = config
        self._http = httpx.Client(
            base_url=config.url,
            headers=headers,
            timeout=config.timeout_seconds,
            transport=transport,
        )

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        files: dict[str, tuple[str, IO[bytes]]] | None = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, json=json, params=query, files=files)
        except httpx.TransportError as exc:
            raise GatewayUnreachable(
                f"cannot reach the gateway at {self.config.url} ({type(exc).__name__}: {exc}); "
                "is `tuneloop up` running? Set TUNELOOP_URL to point elsewhere"
            ) from None
        if response.is_error:
            raise api_error_of(response)
        if response.status_code == 204 or not response.content:
            return None
        content_type = response.headers.get("content-type", "")
        return response.json() if "json" in content_type else response.text

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, json=body, params=params)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def upload(self, path: str, file: Path, **params: Any) -> Any:
        with file.open("rb") as handle:
            return self.request("POST", path, files={"file": (file.name, handle)}, params=params)


__all__ = ["ApiClient"]
