"""The retrainer's HTTP API: thin routes over :class:`Retrainer`."""

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, Response, status
from fastapi.responses import JSONResponse

from contracts.api.errors import ErrorBody, ErrorInfo
from contracts.api.retraining import (
    RetrainingPolicyCreate,
    RetrainingPolicyPublic,
    RetrainingPolicyUpdate,
    RetrainingRunList,
    RetrainingRunPublic,
    RunStatus,
)
from libs.runtime.health import VERSION
from libs.tenancy import Tenant
from services.retrainer.errors import NotFound, RetrainerError
from services.retrainer.retrainer import Retrainer
from services.retrainer.views import policy_view, run_view

ERRORS = {code: {"model": ErrorBody} for code in (404, 409, 422)}


def policy_routes(retrainer: Retrainer) -> APIRouter:
    router = APIRouter(prefix="/v1/retraining/policies", tags=["retraining"], responses=ERRORS)  # type: ignore[arg-type]
    policies = retrainer.policies

    @router.get("", response_model=list[RetrainingPolicyPublic])
    async def list_policies(tenant: Tenant = "default") -> list[RetrainingPolicyPublic]:
        """Every policy of the tenant, with its gold-star count and what it waits for."""
        return [policy_view(p) for p in await policies.listed(tenant)]

    @router.post("", response_model=RetrainingPolicyPublic, status_code=status.HTTP_201_CREATED)
    async def create(
        body: RetrainingPolicyCreate, tenant: Tenant = "default"
    ) -> RetrainingPolicyPublic:
        """Retrain a model by itself; gold stars stored from now on count towards a run."""
        return policy_view(await retrainer.create_policy(tenant, body))

    @router.get("/{model_name}", response_model=RetrainingPolicyPublic)
    async def get(model_name: str, tenant: Tenant = "default") -> RetrainingPolicyPublic:
        return policy_view(await policies.get(tenant, model_name))

    @router.patch("/{model_name}", response_model=RetrainingPolicyPublic)
    async def update(
        model_name: str, body: RetrainingPolicyUpdate, tenant: Tenant = "default"
    ) -> RetrainingPolicyPublic:
        """Replace the sections given (a run going on keeps the plan it started with)."""
        return policy_view(await policies.update(tenant, model_name, body))

    @router.delete("/{model_name}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete(model_name: str, tenant: Tenant = "default") -> Response:
        """Delete the policy (refused while one of its runs goes on); its runs stay listed."""
        await policies.delete(tenant, model_name)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/{model_name}/enable", response_model=RetrainingPolicyPublic)
    async def enable(model_name: str, tenant: Tenant = "default") -> RetrainingPolicyPublic:
        """Switch automatic runs on (the schedule starts again from now)."""
        return policy_view(await policies.set_enabled(tenant, model_name, True))

    @router.post("/{model_name}/disable", response_model=RetrainingPolicyPublic)
    async def disable(model_name: str, tenant: Tenant = "default") -> RetrainingPolicyPublic:
        """Switch automatic runs off; a run going on finishes."""
        return policy_view(await policies.set_enabled(tenant, model_name, False))

    @router.post(
        "/{model_name}/runs",
        response_model=RetrainingRunPublic,
        status_code=status.HTTP_201_CREATED,
    )
    async def run_now(model_name: str, tenant: Tenant = "default") -> RetrainingRunPublic:
        """Start a run now, whatever the trigger says (409 while another one goes on)."""
        return run_view(await retrainer.run_now(tenant, model_name))

    return router


def run_routes(retrainer: Retrainer) -> APIRouter:
    router = APIRouter(prefix="/v1/retraining/runs", tags=["retraining"], responses=ERRORS)  # type: ignore[arg-type]

    @router.get("", response_model=RetrainingRunList)
    async def list_runs(
        tenant: Tenant = "default",
        model_name: str | None = None,
        status: RunStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> RetrainingRunList:
        """Runs, newest first."""
        runs = await retrainer.runs.listed(tenant, model_name, status, limit)
        return RetrainingRunList(data=[run_view(run) for run in runs])

    @router.get("/{run_id}", response_model=RetrainingRunPublic)
    async def get_run(run_id: str, tenant: Tenant = "default") -> RetrainingRunPublic:
        """A run's state, decision and every step in words."""
        run = await retrainer.runs.get(tenant, run_id)
        if run is None:
            raise NotFound(f"no retraining run {run_id!r}; list them with GET /v1/retraining/runs")
        return run_view(run)

    @router.post("/{run_id}/cancel", response_model=RetrainingRunPublic)
    async def cancel(run_id: str, tenant: Tenant = "default") -> RetrainingRunPublic:
        """Stop following the run (its training job is cancelled; a live A/B test goes on)."""
        run = await retrainer.cancel(tenant, run_id)
        if run is None:
            raise NotFound(f"no retraining run {run_id!r}; list them with GET /v1/retraining/runs")
        return run_view(run)

    return router


async def retrainer_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RetrainerError)
    body = ErrorBody(error=ErrorInfo(code=exc.code, message=exc.message))
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=exc.status)


def create_api(retrainer: Retrainer) -> FastAPI:
    api = FastAPI(
        title="tuneloop retrainer",
        version=VERSION,
        description="Retraining policies per model and the runs they start: export, train, "
        "evaluate offline against the serving version, and A/B test a candidate that is not "
        "worse.",
    )
    api.include_router(policy_routes(retrainer))
    api.include_router(run_routes(retrainer))
    api.add_exception_handler(RetrainerError, retrainer_error)
    return api


__all__ = ["create_api"]
