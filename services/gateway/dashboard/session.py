"""Who is signed in: the API key kept in an HttpOnly, SameSite=Strict cookie."""

import re
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

COOKIE = "tuneloop_key"
KEY_SHAPE = re.compile(r"^tl_[A-Za-z0-9]+_[A-Za-z0-9_-]+$")
MAX_AGE_SECONDS = 7 * 24 * 3600


def key_of(request: Request) -> str | None:
    key = request.cookies.get(COOKIE)
    return key if key and KEY_SHAPE.match(key) else None


def key_problem(key: str) -> str | None:
    """Why a pasted key cannot be right, or ``None``."""
    if not key:
        return "Paste your API key: `tuneloop up` printed one and saved it in .tuneloop/admin.key."
    if not KEY_SHAPE.match(key):
        return (
            "That does not look like a tuneloop API key: keys look like tl_abcd1234_… "
            "(check for a missing part or extra spaces)."
        )
    return None


def remember(response: Response, key: str, secure: bool) -> Response:
    response.set_cookie(
        COOKIE,
        key,
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return response


def forget(response: Response) -> Response:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def to_login(request: Request, reason: str | None = None) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    params = f"?next={_quote(target)}" + (f"&reason={_quote(reason)}" if reason else "")
    return RedirectResponse("/login" + params, status_code=303)


def safe_next(target: str | None) -> str:
    """Only paths of this site (no ``//host`` or scheme): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _quote(text: str) -> str:
    return quote(text, safe="")


__all__ = ["COOKIE", "forget", "key_of", "key_problem", "remember", "safe_next", "to_login"]
