"""Templates, the signed-in user's ``/v1`` client, and errors shown as pages."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.gateway.dashboard import charts, explain
from services.gateway.dashboard.client import V1, ApiError
from services.gateway.dashboard.session import key_of, to_login

HERE = Path(__file__).resolve().parent
Loader = Callable[[V1], Awaitable[dict[str, Any]]]
Action = Callable[[V1], Awaitable[str]]


def usd(amount: Any) -> str:
    """Money as people read it: cents, or four decimals below one cent."""
    value = float(amount)
    return f"${value:,.4f}" if 0 < abs(value) < 0.01 else f"${value:,.2f}"


def templates() -> Jinja2Templates:
    environment = Jinja2Templates(directory=HERE / "templates")
    environment.env.globals.update(
        number=charts.number,
        status_words=explain.JOB_STATUS_WORDS,
        metric_words=explain.METRIC_WORDS,
        zip=zip,
    )
    environment.env.filters["percent"] = lambda value: f"{100 * float(value):.1f} %"
    environment.env.filters["usd"] = usd
    environment.env.filters["clock"] = lambda seconds: datetime.fromtimestamp(
        int(seconds), UTC
    ).strftime("%Y-%m-%d %H:%M:%S")
    return environment


def with_notice(url: str, notice: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}notice={quote(notice, safe='')}"


class Pages:
    """Renders pages for one gateway; ``client`` reaches the gateway's own ``/v1``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.templates = templates()

    def v1(self, request: Request) -> V1:
        return V1(self.client, key_of(request))

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> Response:
        context.setdefault("notice", request.query_params.get("notice"))
        context.setdefault("signed_in", key_of(request) is not None)
        context.setdefault("path", request.url.path)
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    def failure(self, request: Request, error: ApiError, doing: str) -> Response:
        if error.status == 401:
            return to_login(request, "Your API key was not accepted (revoked or mistyped).")
        return self.render(
            request,
            "error.html",
            status_code=error.status if error.status >= 400 else 500,
            doing=doing,
            error=error,
        )

    async def page(self, request: Request, name: str, load: Loader, doing: str) -> Response:
        if key_of(request) is None:
            return to_login(request)
        try:
            context = await load(self.v1(request))
        except ApiError as error:
            return self.failure(request, error, doing)
        return self.render(request, name, **context)

    async def act(self, request: Request, action: Action, doing: str) -> Response:
        """Run a change, then show the page the action names (303, so reload is harmless)."""
        if key_of(request) is None:
            return to_login(request)
        try:
            target = await action(self.v1(request))
        except ApiError as error:
            return self.failure(request, error, doing)
        return RedirectResponse(target, status_code=303)


def number_field(form: dict[str, str], name: str, default: float, label: str) -> float:
    """A number typed in a form, or an error saying which field is wrong."""
    text = form.get(name) or ""
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ApiError(422, "invalid_field", f"{label}: {text!r} is not a number") from None


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


__all__ = ["HERE", "Pages", "form_of", "number_field", "templates", "with_notice"]
