"""The dashboard's view of the public ``/v1`` API: the gateway's own routes, called with the
signed-in user's API key, so every check the API makes applies to the dashboard too."""

from dataclasses import dataclass, field
from typing import Any

import httpx

SCOPE_HINT = "ask an admin for a key with the scope this needs (read, train, deploy or admin)"


@dataclass
class ApiError(Exception):
    """A ``/v1`` call that did not succeed, in words a person can act on."""

    status: int
    code: str
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    total_errors: int | None = None

    def __str__(self) -> str:
        return self.message

    @property
    def next_step(self) -> str:
        """What the user can do about it."""
        if self.status == 401:
            return "Sign in again with a valid API key."
        if self.status == 403:
            return f"Your key may not do this: {SCOPE_HINT}."
        if self.status == 404:
            return "It may have been deleted, or belong to another tenant. Go back to the list."
        if self.status == 413:
            return "Split the file into smaller ones and upload them one by one."
        if self.status in (502, 503, 504):
            return "A service is down or restarting: check `tuneloop health`, then retry."
        if self.status == 409:
            return "Someone changed it meanwhile: reload the page and try again."
        return "Correct what the message says and try again."


def api_error(response: httpx.Response) -> ApiError:
    """The ``{"error": {...}}`` body of a failed response (OpenAI's shape too)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    info = body.get("error") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        text = response.text.strip()[:300] or response.reason_phrase
        return ApiError(response.status_code, "http_error", f"the API answered: {text}")
    return ApiError(
        response.status_code,
        str(info.get("code") or info.get("type") or "error"),
        str(info.get("message") or "the API refused the request"),
        list(info.get("errors") or []),
        info.get("total_errors"),
    )


class V1:
    """Calls to ``/v1`` on behalf of one user (their key as ``Authorization: Bearer``)."""

    def __init__(self, client: httpx.AsyncClient, api_key: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def request(self, method: str, path: str, **options: Any) -> Any:
        try:
            response = await self.client.request(method, path, headers=self.headers, **options)
        except httpx.HTTPError as exc:
            message = f"the API did not answer ({type(exc).__name__})"
            raise ApiError(503, "unreachable", message) from None
        if response.status_code >= 400:
            raise api_error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get(self, path: str, **params: Any) -> Any:
        present = {k: v for k, v in params.items() if v is not None and v != ""}
        return await self.request("GET", path, params=present)

    async def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return await self.request("POST", path, json=body, params=params or None)

    async def upload(self, path: str, filename: str, content: bytes, params: dict[str, str]) -> Any:
        files = {"file": (filename, content, "application/octet-stream")}
        return await self.request("POST", path, files=files, params=params)


__all__ = ["V1", "ApiError", "api_error"]
