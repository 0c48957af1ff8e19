"""``/login`` and ``/logout``: the API key pasted once, kept in an HttpOnly cookie."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.gateway.dashboard.client import V1, ApiError
from services.gateway.dashboard.rendering import Pages, form_of
from services.gateway.dashboard.session import forget, key_problem, remember, safe_next


def signin_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    async def login_form(request: Request, next: str = "/", reason: str | None = None) -> Response:
        return pages.render(request, "login.html", next=safe_next(next), problem=reason)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await form_of(request)
        key, target = form.get("api_key", ""), safe_next(form.get("next"))
        problem = key_problem(key)
        if problem is None:
            try:
                await V1(pages.client, key).get("/v1/registry/models")
            except ApiError as error:
                if error.status in (401, 403):
                    problem = f"This key was not accepted: {error.message}"
        if problem is not None:
            return pages.render(
                request, "login.html", status_code=400, next=target, problem=problem
            )
        response = RedirectResponse(target, status_code=303)
        return remember(response, key, secure=request.url.scheme == "https")

    @router.post("/logout")
    async def logout() -> Response:
        return forget(RedirectResponse("/login?reason=You+are+signed+out.", status_code=303))

    return router


__all__ = ["signin_routes"]
