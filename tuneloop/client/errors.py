"""What went wrong talking to the gateway, in the shape the API reports it."""

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class RowError:
    """One problem of a request: a line of an uploaded file or a field of a body."""

    code: str
    message: str
    line: int | None = None
    field: str | None = None


@dataclass
class ApiError(Exception):
    """The API answered with an error: ``{"error": {"code", "message", "errors": [...]}}``."""

    status: int
    code: str
    message: str
    errors: list[RowError] = field(default_factory=list)
    total_errors: int | None = None
    body: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.message} ({self.code}, HTTP {self.status})"


class GatewayUnreachable(Exception):
    """No answer from the gateway at all."""


def row_error_of(item: Any) -> RowError:
    if not isinstance(item, dict):
        return RowError(code="error", message=str(item))
    location = item.get("loc")
    field_name = item.get("field")
    if field_name is None and isinstance(location, list):
        field_name = ".".join(str(part) for part in location if part != "body") or None
    line = item.get("line")
    return RowError(
        code=str(item.get("code") or item.get("type") or "error"),
        message=str(item.get("message") or item.get("msg") or ""),
        line=line if isinstance(line, int) else None,
        field=field_name,
    )


def api_error_of(response: httpx.Response) -> ApiError:
    """Read any error body: tuneloop's, OpenAI's, or FastAPI's ``detail``."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip() or response.reason_phrase
        return ApiError(response.status_code, f"http_{response.status_code}", text[:500])
    if not isinstance(body, dict):
        return ApiError(response.status_code, f"http_{response.status_code}", str(body)[:500])
    info = body.get("error")
    if isinstance(info, dict):
        errors = [row_error_of(item) for item in info.get("errors") or []]
        total = info.get("total_errors")
        return ApiError(
            response.status_code,
            str(info.get("code") or info.get("type") or f"http_{response.status_code}"),
            str(info.get("message") or ""),
            errors,
            total if isinstance(total, int) else None,
            body,
        )
    detail = body.get("detail")
    if isinstance(detail, list):
        errors = [row_error_of(item) for item in detail]
        return ApiError(
            response.status_code,
            "invalid_request",
            "the request is not valid; see the errors below",
            errors,
            len(errors),
            body,
        )
    message = str(detail) if detail is not None else response.reason_phrase
    return ApiError(response.status_code, f"http_{response.status_code}", message, [], None, body)


__all__ = ["ApiError", "GatewayUnreachable", "RowError", "api_error_of"]
