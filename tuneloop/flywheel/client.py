"""The gateway's public HTTP API as the flywheel uses it: one client, errors in plain words."""

from typing import Any

import httpx


class FlywheelError(Exception):
    """A step cannot go on; the message says what happened and what to do."""


def error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(body)[:300]


class Gateway:
    def __init__(self, url: str, key: str | None, timeout: float = 600.0) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=httpx.Timeout(timeout, connect=5.0)
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise FlywheelError(
                f"cannot reach the gateway at {self.url} ({type(exc).__name__}: {exc}); "
                "is `tuneloop up` running?"
            ) from None
        if response.status_code in (401, 403):
            raise FlywheelError(
                f"the gateway refused {method} {path} ({response.status_code}: "
                f"{error_message(response)}); set TUNELOOP_API_KEY to a key with the "
                "admin scope"
            )
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.call(method, path, **kwargs)
        if response.status_code >= 400:
            raise FlywheelError(
                f"{method} {path} failed with {response.status_code}: {error_message(response)}"
            )
        return response.json()

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.json("GET", path, **kwargs)

    async def post(self, path: str, body: Any) -> Any:
        return await self.json("POST", path, json=body)


__all__ = ["FlywheelError", "Gateway", "error_message"]
