"""Who is calling and may they: the bearer key checked, the scope the path needs enforced.

Errors come in OpenAI's shape on the paths OpenAI clients use, in tuneloop's elsewhere.
"""

from fastapi import Request
from fastapi.responses import JSONResponse

from contracts.api.errors import ErrorBody, ErrorInfo
from contracts.api.router import OpenAIError, OpenAIErrorInfo
from libs.tenancy import Identity
from services.gateway.keys import TENANT_PATTERN, bearer_token
from services.gateway.keystore import Caller, KeyStore
from services.gateway.scopes import accepted_scopes

OPENAI_PREFIXES = ("/v1/files", "/v1/fine_tuning", "/v1/models", "/v1/chat", "/v1/completions")
DEVELOPMENT_KEY_ID = "dev"
ALL_SCOPES = ("admin",)


def is_openai_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OPENAI_PREFIXES)


def error_response(path: str, status: int, code: str, message: str) -> JSONResponse:
    if is_openai_path(path):
        kind = {401: "authentication_error", 403: "permission_error", 404: "invalid_request_error"}
        openai = OpenAIError(
            error=OpenAIErrorInfo(
                message=message, type=kind.get(status, "invalid_request_error"), code=code
            )
        )
        return JSONResponse(openai.model_dump(mode="json"), status_code=status)
    body = ErrorBody(error=ErrorInfo(code=code, message=message))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


class Denied(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def missing_key() -> Denied:
    return Denied(
        401,
        "missing_api_key",
        "this endpoint needs an API key: send `Authorization: Bearer tl_...` "
        "(`tuneloop up` wrote the first admin key to $TUNELOOP_HOME/admin.key)",
    )


def invalid_key() -> Denied:
    return Denied(
        401,
        "invalid_api_key",
        "the API key is not valid (unknown, malformed or revoked); ask an admin for a new one",
    )


class Gatekeeper:
    def __init__(self, keys: KeyStore, enabled: bool = True) -> None:
        self.keys = keys
        self.enabled = enabled

    async def caller_of(self, request: Request) -> Caller:
        """The authenticated caller; raises :class:`Denied` (401) otherwise."""
        if not self.enabled:
            tenant = request.headers.get("x-tuneloop-tenant") or "default"
            if not TENANT_PATTERN.match(tenant):
                tenant = "default"
            return Caller(DEVELOPMENT_KEY_ID, tenant, ALL_SCOPES)
        return await self.caller_for(bearer_token(request.headers.get("authorization")))

    async def caller_for(self, token: str | None) -> Caller:
        """The owner of an API key (e.g. the dashboard session's); raises :class:`Denied`."""
        if not self.enabled:
            return Caller(DEVELOPMENT_KEY_ID, "default", ALL_SCOPES)
        if token is None:
            raise missing_key()
        caller = await self.keys.authenticate(token)
        if caller is None:
            raise invalid_key()
        return caller

    @staticmethod
    def check_scope(caller: Caller, method: str, path: str) -> None:
        """Raises :class:`Denied` (403) unless the caller's key may call ``method path``."""
        accepted = accepted_scopes(method, path)
        if not any(caller.allows(scope) for scope in accepted):
            raise Denied(
                403,
                "insufficient_scope",
                f"{method} {path} needs a key with scope "
                f"{' or '.join(sorted(accepted))} (this key has {', '.join(caller.scopes)}); "
                "ask an admin for one",
            )

    async def authorise(self, request: Request) -> Caller:
        """The caller, if its key has a scope this method and path accept (else 401/403)."""
        caller = await self.caller_of(request)
        self.check_scope(caller, request.method, request.url.path)
        return caller


def identity_of(caller: Caller) -> Identity:
    """What the services are told about the caller (signed by the front door)."""
    return Identity(caller.tenant, caller.key_id, tuple(caller.scopes))


__all__ = [
    "Denied",
    "Gatekeeper",
    "error_response",
    "identity_of",
    "is_openai_path",
]
