"""The router's HTTP API: OpenAI-compatible completions, models, feedback, experiments."""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from contracts.api.router import (
    ExperimentCreate,
    ExperimentPublic,
    FeedbackAccepted,
    FeedbackRequest,
    OpenAIError,
    OpenAIErrorInfo,
    RampRequest,
)
from contracts.commands import ArchiveModel
from contracts.events import FeedbackRecorded
from contracts.queries import AuthenticateReply
from libs.messaging import Bus
from libs.runtime.health import VERSION
from libs.tenancy import TENANT_HEADER, carries_identity, verified_body, verified_identity
from services.router.access import AccessDenied, KeyChecker, bearer_key
from services.router.catalog import Catalog
from services.router.completions import CompletionsEndpoint
from services.router.experiments import ExperimentError, Experiments
from services.router.inference import InferenceService

SignedTenantHeader = Annotated[
    str | None,
    Header(
        alias=TENANT_HEADER,
        description="Set (and signed) by the gateway; direct callers send an API key instead.",
    ),
]


async def request_tenant(request: Request, tenant: SignedTenantHeader = None) -> str:
    """The request's tenant: a direct caller's API key (whatever else it sends), else the
    identity the gateway signed; an identity that does not verify is a 401."""
    authorization = request.headers.get("authorization")
    key = bearer_key(authorization)
    if carries_identity(request) and not (key and key.startswith("tl_")):
        identity = verified_identity(request)
        await verified_body(request)
        return identity.tenant
    checker: KeyChecker = request.app.state.key_checker
    return await checker.tenant_of(authorization)


CallerTenant = Annotated[str, Depends(request_tenant)]


def openai_error(
    status: int, message: str, kind: str, param: str | None = None, code: str | None = None
) -> JSONResponse:
    body = OpenAIError(error=OpenAIErrorInfo(message=message, type=kind, param=param, code=code))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


class Delegated(Response):
    """A route's answer written by a plain ASGI endpoint."""

    def __init__(self, endpoint: CompletionsEndpoint, path: str) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoint.serve(self.path, scope, receive, send)


def completion_routes(endpoint: CompletionsEndpoint) -> APIRouter:
    """The completion paths as the schema shows them; :class:`RouterApp` sends requests for
    them to ``endpoint`` before routing, and these routes hand any that reach them over too."""
    router = APIRouter(tags=["inference"])

    @router.post("/v1/chat/completions")
    async def chat_completions(
        request: Request,
        unit: Annotated[str | None, Header(alias="X-Tuneloop-Unit")] = None,
        tenant: SignedTenantHeader = None,
    ) -> Response:
        """OpenAI chat completions, streaming or not, split by the model's experiment."""
        return Delegated(endpoint, "/v1/chat/completions")

    @router.post("/v1/completions")
    async def completions(
        request: Request,
        unit: Annotated[str | None, Header(alias="X-Tuneloop-Unit")] = None,
        tenant: SignedTenantHeader = None,
    ) -> Response:
        """OpenAI (legacy) text completions."""
        return Delegated(endpoint, "/v1/completions")

    return router


def model_not_found(model_id: str) -> JSONResponse:
    return openai_error(
        404,
        f"The model `{model_id}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model",
        "model_not_found",
    )


def model_routes(catalog: Catalog, bus: Bus) -> APIRouter:
    router = APIRouter(tags=["inference"])

    @router.get("/v1/models")
    async def list_models(tenant: CallerTenant) -> dict[str, object]:
        """Every name this tenant can send as `model`, in OpenAI's list shape."""
        names = await catalog.visible_models(tenant)
        return {
            "object": "list",
            "data": [{"id": n, "object": "model", "created": 0, "owned_by": tenant} for n in names],
        }

    @router.get("/v1/models/{model_id}", response_model=None)
    async def retrieve_model(model_id: str, tenant: CallerTenant) -> dict[str, object] | Response:
        """One name this tenant can send as `model`; 404 for any other (in OpenAI's shape)."""
        if model_id not in await catalog.visible_models(tenant):
            return model_not_found(model_id)
        return {"id": model_id, "object": "model", "created": 0, "owned_by": tenant}

    @router.delete("/v1/models/{model_id}", response_model=None)
    async def delete_model(model_id: str, tenant: CallerTenant) -> dict[str, object] | Response:
        """Retire a fine-tuned version (named by its serving name) no alias or experiment uses;
        the registry archives it."""
        version = await catalog.version(tenant, model_id)
        if version is None:
            if model_id in await catalog.visible_models(tenant):
                return openai_error(
                    400,
                    f"`{model_id}` is not a fine-tuned version; delete a version by its serving "
                    "name (`name@version-hash`, see GET /v1/models)",
                    "invalid_request_error",
                    "model",
                    "not_a_version",
                )
            return model_not_found(model_id)
        users = await catalog.users_of(tenant, model_id)
        if users:
            return openai_error(
                409,
                f"`{model_id}` still serves {', '.join(users)}; deploy another version, roll "
                "back or stop the experiment first",
                "invalid_request_error",
                "model",
                "model_in_use",
            )
        await bus.send_command(
            ArchiveModel(
                tenant=tenant,
                model_name=version.model_name,
                version=version.version,
                actor="api",
                notes="deleted through DELETE /v1/models",
            )
        )
        return {"id": model_id, "object": "model", "deleted": True}

    return router


def feedback_routes(bus: Bus) -> APIRouter:
    router = APIRouter(tags=["feedback"])

    @router.post("/v1/feedback", status_code=202, response_model=FeedbackAccepted)
    async def feedback(body: FeedbackRequest, tenant: CallerTenant) -> FeedbackAccepted:
        """A rating, gold star or corrected answer for a served request."""
        event = FeedbackRecorded(
            tenant=tenant,
            request_id=body.request_id,
            rating=body.rating,
            gold_star=body.gold_star,
            corrected_answer=body.corrected_answer,
        )
        await bus.publish_event(event)
        return FeedbackAccepted(id=event.id, request_id=body.request_id)

    return router


def experiment_routes(experiments: Experiments) -> APIRouter:
    router = APIRouter(prefix="/v1/experiments", tags=["experiments"])

    @router.post("", status_code=201, response_model=ExperimentPublic)
    async def create(body: ExperimentCreate, tenant: CallerTenant) -> ExperimentPublic:
        """Start splitting a model's traffic between a control and treatments."""
        return await experiments.create(tenant, body)

    @router.get("", response_model=list[ExperimentPublic])
    async def list_experiments(tenant: CallerTenant) -> list[ExperimentPublic]:
        return await experiments.list(tenant)

    @router.post("/{experiment_id}/ramp", response_model=ExperimentPublic)
    async def ramp(experiment_id: str, body: RampRequest, tenant: CallerTenant) -> ExperimentPublic:
        """Change a treatment's share; units already in it stay in it."""
        return await experiments.ramp(tenant, experiment_id, body)

    @router.post("/{experiment_id}/stop", response_model=ExperimentPublic)
    async def stop(experiment_id: str, tenant: CallerTenant) -> ExperimentPublic:
        return await experiments.stop(tenant, experiment_id, "stopped by request")

    return router


async def no_gateway(key: str) -> AuthenticateReply:
    raise AccessDenied(503, "auth_unavailable", "this router cannot check API keys")


async def experiment_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ExperimentError)
    return JSONResponse(
        {"error": {"code": "experiment_error", "message": exc.message}}, status_code=exc.status
    )


async def access_denied(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AccessDenied)
    kind = {401: "authentication_error", 403: "permission_error"}.get(exc.status, "server_error")
    return openai_error(exc.status, exc.message, kind, code=exc.code)


class RouterApp(FastAPI):
    """The router's app: the completion paths go to their plain ASGI endpoint first, ahead of
    the middleware stack and routing (the router's hot path); everything else as usual."""

    completions: CompletionsEndpoint | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.completions
        path = endpoint.route_of(scope) if endpoint is not None else None
        if path is not None:
            assert endpoint is not None
            await endpoint.serve(path, scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_api(
    service: InferenceService,
    experiments: Experiments,
    bus: Bus,
    max_bytes: int,
    max_tokens: int,
    checker: KeyChecker | None = None,
) -> FastAPI:
    api = RouterApp(
        title="tuneloop router",
        version=VERSION,
        description="OpenAI-compatible inference over fine-tuned versions, split by experiment.",
    )
    api.state.key_checker = checker or KeyChecker(no_gateway, require_key=False)
    state = api.state
    api.completions = CompletionsEndpoint(
        service,
        state.key_checker,
        max_bytes,
        max_tokens,
        signer=lambda: getattr(state, "identity_signer", None),
    )
    api.include_router(completion_routes(api.completions))
    api.include_router(model_routes(service.catalog, bus))
    api.include_router(feedback_routes(bus))
    api.include_router(experiment_routes(experiments))
    api.add_exception_handler(ExperimentError, experiment_error)
    api.add_exception_handler(AccessDenied, access_denied)
    return api


__all__ = ["create_api"]
